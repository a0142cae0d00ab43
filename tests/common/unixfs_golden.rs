//! The UnixFS golden vectors: the CIDs a real IPFS node gives files at every layout boundary.

/// Byte `i` of a test file is `i % 251` (the golden vectors' content).
pub fn file(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// UnixFS CIDs (CIDv1, raw leaves, sha3-256, 256 KiB chunks) a js-ipfs 0.66 node gave files of
/// [`file`]'s content, recorded from a node and checked against a live one by `tests/ipfs.rs`.
pub const GOLDEN: [(usize, &str); 9] = [
    (
        0,
        "bafkrmifh77dprpy625tfdqkhk2qgdvtc6wap6tpehne7vawybjfyb6cdji",
    ),
    (
        1,
        "bafkrmic5kndj6ih66t4ovnjlrace5xtjy55gu2fga4ugbh6euzp7kmph2a",
    ),
    (
        262_143,
        "bafkrmigyzeo4tbnfxm7poceqvx5lilftni2ishtm66tuuvpw7no3xdfqli",
    ),
    (
        262_144,
        "bafkrmibk4eqpkg43mpuslthkms5oew7ztagwe5s2qt6rqusjzyrzxbgqry",
    ),
    (
        262_145,
        "bafybmica4zgmzrxbqfbkizdebm6vtisg2tsh5y6rbye4w5jqbchuvch7sy",
    ),
    (
        1_048_577,
        "bafybmie45zidfdcfe4267htepn2lvvz662pdxkm7p7uu3ki664pcrwt7j4",
    ),
    (
        45_613_056,
        "bafybmia7uu4g7rlqtkgqcphfaddsq7mgyt2ftxt5mpunwz3go46acbz6wq",
    ),
    (
        45_613_057,
        "bafybmievsrdkyc6b47ggtsiz6347uvy5haffk64s3zepjwlkagp3oiatj4",
    ),
    (
        45_875_200,
        "bafybmib4lqtfoxgpcmcik5zuraudziagfniumzsuhosy7kfwnxm5tg26ki",
    ),
];
