/*
 * Mines and verifies one tiny block through the pouw C API.
 *
 *   mine_verify [DIGITS_CSV [WORK_DIR]]
 *
 * DIGITS_CSV: the UCI digits (tests/data/digits.csv.gz); default: $POUW_DIGITS.
 * WORK_DIR: an empty or missing directory for the dataset and the checkpoint store; default: a
 * fresh mkdtemp directory (left in place, its path printed).
 *
 * Build (from the repository root, after `cargo build -p pouw-ffi`):
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/mine_verify.c \
 *      -Ltarget/debug -lpouw_ffi -Wl,-rpath,$PWD/target/debug -o mine_verify
 *
 * Exits 0 when every check passed, 1 otherwise. Every handle and buffer is freed, so the run is
 * clean under valgrind (ffi/tests/c_example.rs runs it so).
 */
#define _POSIX_C_SOURCE 200809L
#include "pouw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/* Prints the message of a result code that differs from the expected one. */
static void expect(const char *what, pouw_result got, pouw_result want) {
    if (got == want) {
        return;
    }
    char msg[128];
    size_t len = 0;
    if (pouw_result_message((uint32_t)got, msg, sizeof msg, &len) != POUW_RESULT_OK) {
        strcpy(msg, "?");
    }
    fprintf(stderr, "FAIL %s: got %u (%s), want %u\n", what, (unsigned)got, msg, (unsigned)want);
    failures++;
}

/* Expects a failure of any code (the exact reason belongs to the core library's tests). */
static void expect_failure(const char *what, pouw_result got) {
    if (got == POUW_RESULT_OK) {
        fprintf(stderr, "FAIL %s: succeeded, expected a failure\n", what);
        failures++;
    }
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        failures++;
    }
}

static void print_hex(const char *label, const uint8_t *bytes, size_t len) {
    printf("%s", label);
    for (size_t i = 0; i < len; i++) {
        printf("%02x", bytes[i]);
    }
    printf("\n");
}

static const uint8_t *path_bytes(const char *p) {
    return (const uint8_t *)p;
}

/* The progress callback: counts steps into *user_data. */
static void on_step(uint64_t step, void *user_data) {
    uint64_t *last = user_data;
    *last = step;
    printf("  step %llu\n", (unsigned long long)step);
}

int main(int argc, char **argv) {
    const char *digits = argc > 1 ? argv[1] : getenv("POUW_DIGITS");
    if (digits == NULL) {
        fprintf(stderr, "usage: %s DIGITS_CSV [WORK_DIR] (or set POUW_DIGITS)\n", argv[0]);
        return 2;
    }
    char work[4096];
    if (argc > 2) {
        snprintf(work, sizeof work, "%s", argv[2]);
    } else {
        snprintf(work, sizeof work, "/tmp/pouw-c-XXXXXX");
        if (mkdtemp(work) == NULL) {
            perror("mkdtemp");
            return 2;
        }
        printf("work dir %s (left in place)\n", work);
    }
    char ds_dir[4200], store_dir[4200];
    snprintf(ds_dir, sizeof ds_dir, "%s/digits", work);
    snprintf(store_dir, sizeof store_dir, "%s/store", work);

    printf("pouw %s, protocol %u\n", pouw_version(), (unsigned)pouw_protocol_version());

    pouw_dataset *dataset = NULL;
    pouw_params *params = NULL;
    pouw_params *decoded = NULL;
    pouw_store *store = NULL;
    pouw_cancel_token *token = NULL;
    pouw_buffer *params_bytes = NULL, *genesis = NULL, *genesis_cid = NULL, *cid_text = NULL;
    pouw_buffer *proof = NULL, *winning = NULL, *winning_cid = NULL;

    /* 1. The dataset. */
    pouw_result r = pouw_dataset_import_digits(path_bytes(digits), strlen(digits), path_bytes(ds_dir), strlen(ds_dir), &dataset);
    expect("import digits", r, POUW_RESULT_OK);
    if (r != POUW_RESULT_OK) {
        goto done;
    }
    uint8_t root[32];
    uint64_t records = 0;
    expect("dataset root", pouw_dataset_root(dataset, root), POUW_RESULT_OK);
    expect("dataset len", pouw_dataset_len(dataset, &records), POUW_RESULT_OK);
    printf("dataset: %llu records\n", (unsigned long long)records);
    print_hex("  root ", root, 32);

    /* 2. Small consensus parameters; their canonical bytes decode to the same digest. */
    pouw_params_options opts = {0};
    opts.struct_size = sizeof opts;
    opts.set = POUW_PARAMS_OPTION_G_FILTERS | POUW_PARAMS_OPTION_D_FILTERS | POUW_PARAMS_OPTION_BATCH_SIZE |
               POUW_PARAMS_OPTION_OPENED_STEPS | POUW_PARAMS_OPTION_CAPACITY_CHALLENGES |
               POUW_PARAMS_OPTION_MAX_STEPS | POUW_PARAMS_OPTION_DEVICE;
    opts.g_filters = 16;
    opts.d_filters = 8;
    opts.batch_size = 16;
    opts.opened_steps = 4;
    opts.capacity_challenges = 8;
    opts.max_steps = 200;
    opts.device = POUW_DEVICE_CPU;
    expect("params", pouw_params_new_gan(dataset, &opts, &params), POUW_RESULT_OK);
    if (params == NULL) {
        goto done;
    }
    uint8_t digest[32], digest2[32];
    expect("params digest", pouw_params_digest(params, digest), POUW_RESULT_OK);
    print_hex("params digest ", digest, 32);
    expect("params bytes", pouw_params_to_bytes(params, &params_bytes), POUW_RESULT_OK);
    expect("params decode",
           pouw_params_from_bytes(pouw_buffer_data(params_bytes), pouw_buffer_len(params_bytes), POUW_DEVICE_CPU, 0, &decoded),
           POUW_RESULT_OK);
    expect("decoded digest", pouw_params_digest(decoded, digest2), POUW_RESULT_OK);
    check(memcmp(digest, digest2, 32) == 0, "params round trip keeps the digest");

    /* 3. The store and the genesis checkpoint. */
    expect("store", pouw_store_open_dir(path_bytes(store_dir), strlen(store_dir), &store), POUW_RESULT_OK);
    uint8_t seed[32] = {0};
    expect("genesis", pouw_genesis_checkpoint(params, seed, &genesis), POUW_RESULT_OK);
    expect("put genesis", pouw_store_put(store, pouw_buffer_data(genesis), pouw_buffer_len(genesis), &genesis_cid), POUW_RESULT_OK);
    if (genesis == NULL || genesis_cid == NULL) {
        goto done;
    }
    expect("cid text", pouw_cid_to_string(pouw_buffer_data(genesis_cid), pouw_buffer_len(genesis_cid), &cid_text), POUW_RESULT_OK);
    printf("genesis: %zu bytes, %.*s\n", pouw_buffer_len(genesis), (int)pouw_buffer_len(cid_text), (const char *)pouw_buffer_data(cid_text));
    /* The chain's start: the genesis checkpoint's CID, digest and step counter. */
    pouw_start start;
    expect("start", pouw_start_of_checkpoint(params, pouw_buffer_data(genesis), pouw_buffer_len(genesis), &start), POUW_RESULT_OK);
    check(start.cid_len == pouw_buffer_len(genesis_cid) && memcmp(start.cid, pouw_buffer_data(genesis_cid), start.cid_len) == 0,
          "the start names the genesis CID");

    /* 4. Mine a tiny block (about 6 steps expected). */
    uint8_t target[32], header[32];
    memset(header, 3, sizeof header);
    expect("target", pouw_target_from_expected_steps(6, target), POUW_RESULT_OK);
    const uint8_t miner[] = "miner-1";
    const size_t miner_len = sizeof miner - 1;
    expect("cancel token", pouw_cancel_token_new(&token), POUW_RESULT_OK);
    uint64_t last_step = 0;
    printf("mining:\n");
    r = pouw_mine(params, dataset, store, header, miner, miner_len, pouw_buffer_data(genesis), pouw_buffer_len(genesis), target,
                  UINT64_MAX, on_step, &last_step, token, &proof, &winning);
    expect("mine", r, POUW_RESULT_OK);
    if (r != POUW_RESULT_OK) {
        goto done;
    }
    printf("block found at step %llu: proof %zu bytes, winning checkpoint %zu bytes\n", (unsigned long long)last_step,
           pouw_buffer_len(proof), pouw_buffer_len(winning));

    /* 5. Verify it. */
    pouw_verdict verdict;
    r = pouw_verify(params, store, header, miner, miner_len, &start, target, pouw_buffer_data(proof), pouw_buffer_len(proof),
                    &verdict);
    expect("verify", r, POUW_RESULT_OK);
    if (r == POUW_RESULT_OK) {
        printf("verdict: steps %llu, opened %llu\n", (unsigned long long)verdict.steps,
               (unsigned long long)verdict.opened_count);
        /* Scoring is apart from validity: only chains that reward quality pay for it. */
        pouw_assessment scores;
        expect("assess",
               pouw_assess(params, NULL, store, &start, pouw_buffer_data(proof), pouw_buffer_len(proof), &scores),
               POUW_RESULT_OK);
        printf("quality %.6f -> %.6f\n", scores.start_quality, scores.end_quality);
        print_hex("  work           ", verdict.work, 32);
        print_hex("  winning digest ", verdict.next.digest, 32);
        check(verdict.steps == last_step, "verdict steps match the mined steps");
        check(verdict.next.steps == start.steps + verdict.steps, "the next start's step counter");
        check(memcmp(verdict.dataset_root, root, 32) == 0, "verdict names the dataset");
        expect("winning cid", pouw_cid_of(pouw_buffer_data(winning), pouw_buffer_len(winning), &winning_cid), POUW_RESULT_OK);
        check(winning_cid != NULL && verdict.next.cid_len == pouw_buffer_len(winning_cid) &&
                  memcmp(verdict.next.cid, pouw_buffer_data(winning_cid), verdict.next.cid_len) == 0,
              "verdict names the winning checkpoint");
        /* Chain work: the block's, doubled, and an overflow refused. */
        uint8_t work[32], total[32] = {0}, full[32];
        expect("work of target", pouw_work_of_target(target, work), POUW_RESULT_OK);
        check(memcmp(work, verdict.work, 32) == 0, "the verdict's work is the target's");
        expect("work add", pouw_work_add(total, verdict.work, total), POUW_RESULT_OK);
        expect("work add again", pouw_work_add(total, verdict.work, total), POUW_RESULT_OK);
        memset(full, 0xff, sizeof full);
        expect("work overflow", pouw_work_add(full, verdict.work, total), POUW_RESULT_LIMIT_EXCEEDED);
        /* An audit of the honest block: every step agrees, no fraud proof; then the check every
           node runs on every block it accepts: one segment drawn by its own randomness. */
        pouw_buffer *fraud = (pouw_buffer *)1;
        uint64_t segment = 0;
        expect("audit", pouw_audit(params, dataset, store, header, miner, miner_len, pouw_buffer_data(genesis),
                                   pouw_buffer_len(genesis), target, pouw_buffer_data(proof), pouw_buffer_len(proof),
                                   POUW_SEGMENT_ALL, NULL, NULL, NULL, &segment, &fraud),
               POUW_RESULT_OK);
        check(fraud == NULL && segment == POUW_SEGMENT_ALL, "an honest block has no fraud proof");
        uint64_t segments = 0;
        expect("segment count", pouw_segment_count(params, pouw_buffer_data(proof), pouw_buffer_len(proof), &segments),
               POUW_RESULT_OK);
        fraud = (pouw_buffer *)1;
        expect("segment check", pouw_audit(params, dataset, store, header, miner, miner_len, pouw_buffer_data(genesis),
                                           pouw_buffer_len(genesis), target, pouw_buffer_data(proof),
                                           pouw_buffer_len(proof), POUW_SEGMENT_RANDOM, NULL, NULL, NULL, &segment,
                                           &fraud),
               POUW_RESULT_OK);
        check(fraud == NULL && segment < segments, "a random segment of an honest block agrees");
        /* The chain records the block's identity; a fraud proof is checked against it. */
        uint8_t block_id[32];
        expect("block id", pouw_block_proof_id(params, pouw_buffer_data(proof), pouw_buffer_len(proof), block_id),
               POUW_RESULT_OK);
        uint64_t step = 0;
        const uint8_t junk[] = "not a fraud proof";
        expect("fraud proof garbage", pouw_fraud_proof_verify(params, store, block_id, start.steps, pouw_buffer_data(proof),
                                                             pouw_buffer_len(proof), junk, sizeof junk, &step),
               POUW_RESULT_BAD_MAGIC);
    }

    /* The judgement of a failed verification: invalid (reject the block) or undecided (retry). */
    check(pouw_result_is_rejection(POUW_RESULT_BAD_MAGIC) && pouw_result_is_rejection(POUW_RESULT_STEP_MISMATCH),
          "a malformed proof and a wrong step are rejections");
    check(!pouw_result_is_rejection(POUW_RESULT_NOT_FOUND) && !pouw_result_is_rejection(POUW_RESULT_TIMEOUT) &&
              !pouw_result_is_rejection(POUW_RESULT_BAD_BLOCK) && !pouw_result_is_rejection(POUW_RESULT_OK),
          "a store miss, a timeout and a peer's wrong bytes are undecided");

    /* 6. Bad input: NULL and zero-length arguments get codes, outputs stay untouched. */
    pouw_verdict untouched;
    memset(&untouched, 0xab, sizeof untouched);
    expect("verify NULL params",
           pouw_verify(NULL, store, header, miner, miner_len, &start, target,
                       pouw_buffer_data(proof), pouw_buffer_len(proof), &untouched),
           POUW_RESULT_NULL_ARGUMENT);
    expect("verify NULL proof with a length",
           pouw_verify(params, store, header, miner, miner_len, &start, target,
                       NULL, 10, &untouched),
           POUW_RESULT_NULL_ARGUMENT);
    expect("verify zero-length proof",
           pouw_verify(params, store, header, miner, miner_len, &start, target,
                       NULL, 0, &untouched),
           POUW_RESULT_TRUNCATED);
    const uint8_t garbage[] = "definitely not a block proof";
    expect("verify garbage",
           pouw_verify(params, store, header, miner, miner_len, &start, target,
                       garbage, sizeof garbage, &untouched),
           POUW_RESULT_BAD_MAGIC);
    expect("verify zero-length miner id (binding)",
           pouw_verify(params, store, header, NULL, 0, &start, target,
                       pouw_buffer_data(proof), pouw_buffer_len(proof), &untouched),
           POUW_RESULT_BINDING);
    pouw_verdict pattern;
    memset(&pattern, 0xab, sizeof pattern);
    check(memcmp(&pattern, &untouched, sizeof pattern) == 0, "failed verifications leave the verdict untouched");

    pouw_buffer *not_written = NULL;
    expect("mine NULL dataset",
           pouw_mine(params, NULL, store, header, miner, miner_len, pouw_buffer_data(genesis), pouw_buffer_len(genesis), target, 10,
                     NULL, NULL, NULL, &not_written, &not_written),
           POUW_RESULT_NULL_ARGUMENT);
    expect_failure("mine zero-length start",
                   pouw_mine(params, dataset, store, header, miner, miner_len, NULL, 0, target, 10, NULL, NULL, NULL, &not_written,
                             &not_written));
    /* A cancelled token stops mining before its first step; a step limit has its own code. */
    expect("cancel", pouw_cancel_token_cancel(token), POUW_RESULT_OK);
    expect("mine cancelled",
           pouw_mine(params, dataset, store, header, miner, miner_len, pouw_buffer_data(genesis), pouw_buffer_len(genesis), target,
                     UINT64_MAX, NULL, NULL, token, &not_written, &not_written),
           POUW_RESULT_CANCELLED);
    uint8_t never[32] = {0};
    expect("mine step limit",
           pouw_mine(params, dataset, store, header, miner, miner_len, pouw_buffer_data(genesis), pouw_buffer_len(genesis), never, 1,
                     NULL, NULL, NULL, &not_written, &not_written),
           POUW_RESULT_STEP_LIMIT);
    check(not_written == NULL, "failed mining writes no buffer");
    expect("dataset NULL out", pouw_dataset_open(path_bytes(ds_dir), strlen(ds_dir), NULL), POUW_RESULT_NULL_ARGUMENT);
    expect("store empty path", pouw_store_open_dir(path_bytes(""), 0, &store), POUW_RESULT_INVALID_ARGUMENT);
    char small[4];
    size_t len = 0;
    expect("message too small", pouw_result_message(POUW_RESULT_OK, small, sizeof small, &len), POUW_RESULT_BUFFER_TOO_SMALL);
    check(pouw_buffer_len(NULL) == 0 && pouw_buffer_data(NULL) == NULL, "NULL buffer accessors");

done:
    /* 7. Free everything (NULL included). */
    pouw_buffer_free(params_bytes);
    pouw_buffer_free(genesis);
    pouw_buffer_free(genesis_cid);
    pouw_buffer_free(cid_text);
    pouw_buffer_free(proof);
    pouw_buffer_free(winning);
    pouw_buffer_free(winning_cid);
    pouw_buffer_free(NULL);
    pouw_cancel_token_free(token);
    pouw_store_free(store);
    pouw_params_free(decoded);
    pouw_params_free(params);
    pouw_dataset_free(dataset);
    pouw_dataset_free(NULL);
    pouw_params_free(NULL);
    pouw_store_free(NULL);
    pouw_cancel_token_free(NULL);

    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
