/*
 * Grows a dataset through the pouw C API: a dataset request, its judge checking a small
 * submission (one verdict code per record), the verdicts counted in a reputation table, the
 * request voted in by blocks' signal words, the submission paid in a ledger that applies,
 * reverts and re-applies its blocks, and a consistency proof checked.
 *
 *   grow [DIGITS_CSV [WORK_DIR]]
 *
 * DIGITS_CSV: the UCI digits (tests/data/digits.csv.gz); default: $POUW_DIGITS.
 * WORK_DIR: an empty or missing directory for the dataset; default: a fresh mkdtemp directory
 * (left in place, its path printed).
 *
 * Build (from the repository root, after `cargo build -p pouw-ffi`):
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/grow.c \
 *      -Ltarget/debug -lpouw_ffi -Wl,-rpath,$PWD/target/debug -o grow
 *
 * Exits 0 when every check passed, 1 otherwise. Every handle and buffer is freed, so the run is
 * clean under valgrind (ffi/tests/c_example.rs runs it so).
 */
#define _POSIX_C_SOURCE 200809L
#include "pouw.h"

#include <math.h>
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

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        failures++;
    }
}

static const uint8_t *path_bytes(const char *p) {
    return (const uint8_t *)p;
}

static int same_buffers(const pouw_buffer *a, const pouw_buffer *b) {
    return a != NULL && b != NULL && pouw_buffer_len(a) == pouw_buffer_len(b) &&
           memcmp(pouw_buffer_data(a), pouw_buffer_data(b), pouw_buffer_len(a)) == 0;
}

static const char *verdict_name(uint32_t code) {
    switch (code) {
    case POUW_RECORD_ACCEPTED: return "accepted";
    case POUW_RECORD_WRONG_SIZE: return "wrong size";
    case POUW_RECORD_VALUE_OUT_OF_RANGE: return "value out of range";
    case POUW_RECORD_INK_OUT_OF_BOUNDS: return "ink out of bounds";
    case POUW_RECORD_DUPLICATE_OF_DATASET: return "duplicate of a dataset record";
    case POUW_RECORD_DUPLICATE_IN_SUBMISSION: return "duplicate within the submission";
    case POUW_RECORD_SHIFTED_COPY_OF_DATASET: return "shifted copy of a dataset record";
    case POUW_RECORD_SHIFTED_COPY_IN_SUBMISSION: return "shifted copy within the submission";
    case POUW_RECORD_IMPLAUSIBLE: return "implausible";
    case POUW_RECORD_REQUEST_FILLED: return "request filled";
    case POUW_RECORD_UNLIKE_DATASET: return "unlike the dataset";
    case POUW_RECORD_NEAR_COPY_OF_DATASET: return "near copy of a dataset record";
    case POUW_RECORD_NEAR_COPY_IN_SUBMISSION: return "near copy within the submission";
    case POUW_RECORD_TRANSFORMED_COPY_OF_DATASET: return "transformed copy of a dataset record";
    case POUW_RECORD_TRANSFORMED_COPY_IN_SUBMISSION: return "transformed copy within the submission";
    case POUW_RECORD_NEGATIVE_CLOSER: return "its negative is closer to the dataset";
    case POUW_RECORD_LEVELS_COPY_OF_DATASET: return "copy of a dataset record, levels changed";
    case POUW_RECORD_LEVELS_COPY_IN_SUBMISSION: return "copy within the submission, levels changed";
    case POUW_RECORD_FLAT_PATCH: return "flat patch (a square of one value, or nearly)";
    default: return "?";
    }
}

#define RECORDS 6
#define RECORD_SIZE 64

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
    char ds_dir[4200];
    snprintf(ds_dir, sizeof ds_dir, "%s/digits", work);

    pouw_dataset *dataset = NULL;
    pouw_params *params = NULL;
    pouw_dataset_request *request = NULL, *decoded = NULL;
    pouw_judge *judge = NULL;
    pouw_reputation *reputation = NULL, *reputation2 = NULL;
    pouw_buffer *checkpoint = NULL, *request_bytes = NULL, *request_bytes2 = NULL, *request_cid = NULL, *cid_of_bytes = NULL;
    pouw_buffer *submission = NULL, *table = NULL, *table2 = NULL;
    pouw_request_vote *vote = NULL;
    pouw_ledger *ledger = NULL;
    pouw_ledger_block *block = NULL;
    pouw_buffer *opened = NULL, *settled = NULL, *state1 = NULL, *state2 = NULL, *state = NULL;

    /* 1. The dataset, small parameters, and an untrained judge checkpoint. */
    pouw_result r = pouw_dataset_import_digits(path_bytes(digits), strlen(digits), path_bytes(ds_dir), strlen(ds_dir), &dataset);
    expect("import digits", r, POUW_RESULT_OK);
    if (r != POUW_RESULT_OK) {
        goto done;
    }
    pouw_params_options opts = {0};
    opts.struct_size = sizeof opts;
    opts.set = POUW_PARAMS_OPTION_G_FILTERS | POUW_PARAMS_OPTION_D_FILTERS | POUW_PARAMS_OPTION_BATCH_SIZE |
               POUW_PARAMS_OPTION_DEVICE;
    opts.g_filters = 16;
    opts.d_filters = 8;
    opts.batch_size = 16;
    opts.device = POUW_DEVICE_CPU;
    expect("params", pouw_params_new_gan(dataset, &opts, &params), POUW_RESULT_OK);
    uint8_t seed[32] = {0};
    expect("judge checkpoint", pouw_genesis_checkpoint(params, seed, &checkpoint), POUW_RESULT_OK);
    if (params == NULL || checkpoint == NULL) {
        goto done;
    }
    const uint8_t *ck = pouw_buffer_data(checkpoint);
    const size_t ck_len = pouw_buffer_len(checkpoint);

    /* 2. The request: the threshold rejects 2% of the dataset's own records; digits are strokes
     * on a blank ground, so the request also bounds their ink by the dataset's (off by default). */
    float threshold = NAN;
    expect("calibrate", pouw_judge_calibrate_threshold(params, ck, ck_len, dataset, 20, &threshold), POUW_RESULT_OK);
    printf("threshold %.6f\n", (double)threshold);
    pouw_dataset_request_options ro = {0};
    ro.struct_size = sizeof ro;
    ro.set = POUW_REQUEST_OPTION_INK;
    expect("ink bounds", pouw_dataset_ink_bounds(dataset, &ro.ink_min, &ro.ink_max), POUW_RESULT_OK);
    printf("ink bounds %u..=%u\n", (unsigned)ro.ink_min, (unsigned)ro.ink_max);
    expect("request", pouw_dataset_request_new(dataset, params, ck, ck_len, threshold, 100, &ro, &request), POUW_RESULT_OK);
    if (request == NULL) {
        goto done;
    }
    expect("request bytes", pouw_dataset_request_to_bytes(request, &request_bytes), POUW_RESULT_OK);
    expect("request decode",
           pouw_dataset_request_from_bytes(pouw_buffer_data(request_bytes), pouw_buffer_len(request_bytes), &decoded),
           POUW_RESULT_OK);
    expect("decoded bytes", pouw_dataset_request_to_bytes(decoded, &request_bytes2), POUW_RESULT_OK);
    check(same_buffers(request_bytes, request_bytes2), "request round trip");
    expect("request cid", pouw_dataset_request_cid(request, &request_cid), POUW_RESULT_OK);
    expect("cid of bytes", pouw_cid_of(pouw_buffer_data(request_bytes), pouw_buffer_len(request_bytes), &cid_of_bytes), POUW_RESULT_OK);
    check(same_buffers(request_cid, cid_of_bytes), "the request's CID names its bytes");
    pouw_dataset_request *not_written = NULL;
    expect("request truncated", pouw_dataset_request_from_bytes(pouw_buffer_data(request_bytes), 7, &not_written), POUW_RESULT_TRUNCATED);
    check(not_written == NULL, "failed decoding writes no request");

    /* 3. The judge checks a submission of six 8x8 records. */
    expect("judge", pouw_judge_new(request, params, ck, ck_len, dataset, &judge), POUW_RESULT_OK);
    if (judge == NULL) {
        goto done;
    }
    uint8_t records[RECORDS][RECORD_SIZE];
    memset(records, 0, sizeof records);
    for (int i = 0; i < RECORD_SIZE; i++) { /* a ring: a plausible amount of ink */
        int x = i % 8, y = i / 8;
        int d2 = (2 * x - 7) * (2 * x - 7) + (2 * y - 7) * (2 * y - 7);
        records[0][i] = (d2 > 12 && d2 < 40) ? 12 : 0;
        records[3][i] = (d2 > 8 && d2 < 50) ? (uint8_t)(4 + (i % 9)) : 0;
    }
    /* records[1]: blank. */
    memcpy(records[2], records[0], RECORD_SIZE); /* a duplicate of record 0 */
    memcpy(records[4], records[3], RECORD_SIZE);
    records[4][0] = 200; /* a value out of range */
    memcpy(records[5], records[3], RECORD_SIZE);
    records[5][27] = 16; /* record 3 with one value changed: a near copy */
    const uint8_t submitter[] = "submitter-1";
    const size_t submitter_len = sizeof submitter - 1;
    uint32_t codes[RECORDS];
    float logits[RECORDS];
    size_t count = 0;
    r = pouw_judge_check(judge, submitter, submitter_len, &records[0][0], sizeof records, RECORD_SIZE, 0, codes, RECORDS, logits,
                         RECORDS, &count);
    expect("check", r, POUW_RESULT_OK);
    if (r != POUW_RESULT_OK) {
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        printf("  record %zu: %u %s (logit %.4f)\n", i, (unsigned)codes[i], verdict_name(codes[i]), (double)logits[i]);
    }
    check(count == RECORDS, "one verdict per record");
    check(codes[1] == POUW_RECORD_INK_OUT_OF_BOUNDS, "blank record");
    check(codes[2] == POUW_RECORD_DUPLICATE_IN_SUBMISSION, "duplicate record");
    check(codes[4] == POUW_RECORD_VALUE_OUT_OF_RANGE, "out-of-range record");
    check(codes[5] == POUW_RECORD_NEAR_COPY_IN_SUBMISSION, "near copy");
    check(isnan(logits[1]), "no logit for a record the model-free checks rejected");

    /* Outputs are written only on success: arrays too short leave everything untouched. */
    uint32_t few[RECORDS - 1];
    memset(few, 0xab, sizeof few);
    size_t count2 = 12345;
    expect("check too small",
           pouw_judge_check(judge, submitter, submitter_len, &records[0][0], sizeof records, RECORD_SIZE, 0, few, RECORDS - 1, NULL,
                            0, &count2),
           POUW_RESULT_BUFFER_TOO_SMALL);
    check(count2 == 12345 && few[0] == 0xabababab, "a failed check writes nothing");
    expect("check no submitter",
           pouw_judge_check(judge, NULL, 0, &records[0][0], sizeof records, RECORD_SIZE, 0, codes, RECORDS, NULL, 0, &count2),
           POUW_RESULT_INVALID_FIELD);
    expect("check record size 0",
           pouw_judge_check(judge, submitter, submitter_len, &records[0][0], sizeof records, 0, 0, codes, RECORDS, NULL, 0, &count2),
           POUW_RESULT_INVALID_ARGUMENT);

    /* The same submission in its canonical encoding, as a peer would send it. */
    size_t lens[RECORDS];
    for (int i = 0; i < RECORDS; i++) {
        lens[i] = RECORD_SIZE;
    }
    expect("encode", pouw_submission_encode(request, submitter, submitter_len, &records[0][0], sizeof records, lens, RECORDS, &submission),
           POUW_RESULT_OK);
    uint32_t max_records = 0;
    expect("max records", pouw_dataset_request_max_records(request, &max_records), POUW_RESULT_OK);
    uint32_t *codes2 = calloc(max_records, sizeof *codes2);
    if (codes2 != NULL && submission != NULL) {
        expect("check encoded",
               pouw_judge_check_encoded(judge, pouw_buffer_data(submission), pouw_buffer_len(submission), 0, codes2, max_records, NULL, 0,
                                        &count2),
               POUW_RESULT_OK);
        check(count2 == RECORDS && memcmp(codes, codes2, sizeof codes) == 0, "the encoded submission gets the same verdicts");
    }
    free(codes2);

    /* 4. The verdicts counted for the submitter. */
    pouw_reputation_rule rule;
    expect("default rule", pouw_reputation_rule_default(&rule), POUW_RESULT_OK);
    expect("reputation", pouw_reputation_new(&rule, &reputation), POUW_RESULT_OK);
    uint32_t standing = 99;
    expect("record", pouw_reputation_record(reputation, submitter, submitter_len, codes, count, &standing), POUW_RESULT_OK);
    pouw_submitter_standing st;
    expect("standing", pouw_reputation_standing(reputation, submitter, submitter_len, &st), POUW_RESULT_OK);
    printf("submitter: %llu accepted, %llu rejected, standing %u\n", (unsigned long long)st.accepted, (unsigned long long)st.rejected,
           (unsigned)st.standing);
    check(st.accepted + st.rejected == RECORDS && st.standing == standing, "every verdict counted");
    expect("table bytes", pouw_reputation_to_bytes(reputation, &table), POUW_RESULT_OK);
    expect("table decode", pouw_reputation_from_bytes(pouw_buffer_data(table), pouw_buffer_len(table), &reputation2), POUW_RESULT_OK);
    expect("table bytes again", pouw_reputation_to_bytes(reputation2, &table2), POUW_RESULT_OK);
    check(same_buffers(table, table2), "reputation round trip");
    uint32_t unknown[1] = {77};
    expect("record unknown code", pouw_reputation_record(reputation, submitter, submitter_len, unknown, 1, &standing),
           POUW_RESULT_INVALID_ARGUMENT);

    /* 5. The request voted in: windows of 10 blocks, 8 signals lock it in. */
    pouw_vote_params vp = {.bit = 3, .window = 10, .threshold = 8, .start_height = 10, .timeout_height = 40};
    expect("vote", pouw_request_vote_new(pouw_buffer_data(request_cid), pouw_buffer_len(request_cid), &vp, &vote), POUW_RESULT_OK);
    uint8_t bit = 3;
    uint32_t yes = 0, words[30] = {0};
    expect("signal word", pouw_signal_word_for(&bit, 1, &yes), POUW_RESULT_OK);
    for (int h = 10; h < 18; h++) {
        words[h] = yes;
    }
    pouw_vote_status vs = {99, 99};
    expect("vote at 20", pouw_request_vote_status(vote, words, 20, &vs), POUW_RESULT_OK);
    check(vs.state == POUW_VOTE_LOCKED_IN && vs.since == 20, "8 of 10 signals lock the request in");
    expect("vote at 30", pouw_request_vote_status(vote, words, 30, &vs), POUW_RESULT_OK);
    check(vs.state == POUW_VOTE_ACTIVE && vs.since == 30, "active one window later");
    printf("vote: active since height %llu\n", (unsigned long long)vs.since);

    /* 6. The ledger: the request opened at its activation, the submission paid, reverted and
     * paid again. */
    uint8_t ids[3][32];
    for (int i = 0; i < 3; i++) {
        memset(ids[i], i + 1, 32);
    }
    expect("ledger", pouw_ledger_new(&rule, ids[0], &ledger), POUW_RESULT_OK);
    expect("block 1", pouw_ledger_block_new(1, ids[1], ids[0], &block), POUW_RESULT_OK);
    expect("open", pouw_ledger_block_open(block, request, 2, 2000), POUW_RESULT_OK);
    expect("block 1 bytes", pouw_ledger_block_to_bytes(block, &opened), POUW_RESULT_OK);
    pouw_ledger_block_free(block);
    expect("block 2", pouw_ledger_block_new(2, ids[2], ids[1], &block), POUW_RESULT_OK);
    expect("settle", pouw_ledger_block_settle(block, request, submitter, submitter_len, codes, count), POUW_RESULT_OK);
    expect("block 2 bytes", pouw_ledger_block_to_bytes(block, &settled), POUW_RESULT_OK);
    if (opened != NULL && settled != NULL) {
        expect("apply 1", pouw_ledger_apply(ledger, pouw_buffer_data(opened), pouw_buffer_len(opened)), POUW_RESULT_OK);
        expect("state 1", pouw_ledger_to_bytes(ledger, &state1), POUW_RESULT_OK);
        expect("apply 2", pouw_ledger_apply(ledger, pouw_buffer_data(settled), pouw_buffer_len(settled)), POUW_RESULT_OK);
        expect("state 2", pouw_ledger_to_bytes(ledger, &state2), POUW_RESULT_OK);
        uint64_t credits = 0;
        expect("credits", pouw_ledger_credits(ledger, submitter, submitter_len, &credits), POUW_RESULT_OK);
        printf("ledger: %llu credits for %llu accepted records\n", (unsigned long long)credits, (unsigned long long)st.accepted);
        check(credits == 2 * st.accepted, "two credits per accepted record");
        expect("revert below the tip", pouw_ledger_revert(ledger, pouw_buffer_data(opened), pouw_buffer_len(opened)),
               POUW_RESULT_LEDGER_REFUSED);
        expect("revert 2", pouw_ledger_revert(ledger, pouw_buffer_data(settled), pouw_buffer_len(settled)), POUW_RESULT_OK);
        expect("reverted state", pouw_ledger_to_bytes(ledger, &state), POUW_RESULT_OK);
        check(same_buffers(state, state1), "revert gives the ledger before the block");
        pouw_buffer_free(state);
        state = NULL;
        expect("re-apply 2", pouw_ledger_apply(ledger, pouw_buffer_data(settled), pouw_buffer_len(settled)), POUW_RESULT_OK);
        expect("re-applied state", pouw_ledger_to_bytes(ledger, &state), POUW_RESULT_OK);
        check(same_buffers(state, state2), "re-applying gives the same ledger");
    }

    /* 7. Consistency proofs: a tree is consistent with itself; a proof of nothing fails. */
    uint8_t root_a[32], root_b[32];
    memset(root_a, 1, sizeof root_a);
    memset(root_b, 2, sizeof root_b);
    expect("consistent with itself", pouw_verify_consistency(5, root_a, 5, root_a, NULL, 0), POUW_RESULT_OK);
    expect("empty proof", pouw_verify_consistency(5, root_a, 9, root_b, NULL, 0), POUW_RESULT_CONSISTENCY_MISMATCH);
    expect("partial node", pouw_verify_consistency(5, root_a, 9, root_b, root_b, 31), POUW_RESULT_INVALID_ARGUMENT);
    pouw_append_proof_info info;
    memset(&info, 0xab, sizeof info);
    expect("append proof garbage", pouw_append_proof_verify(root_a, 32, &info), POUW_RESULT_BAD_MAGIC);
    check(info.old_size == 0xababababababababULL, "a failed verification writes nothing");

done:
    pouw_buffer_free(checkpoint);
    pouw_buffer_free(request_bytes);
    pouw_buffer_free(request_bytes2);
    pouw_buffer_free(request_cid);
    pouw_buffer_free(cid_of_bytes);
    pouw_buffer_free(submission);
    pouw_buffer_free(table);
    pouw_buffer_free(table2);
    pouw_reputation_free(reputation);
    pouw_reputation_free(reputation2);
    pouw_reputation_free(NULL);
    pouw_request_vote_free(vote);
    pouw_ledger_block_free(block);
    pouw_ledger_free(ledger);
    pouw_ledger_free(NULL);
    pouw_buffer_free(opened);
    pouw_buffer_free(settled);
    pouw_buffer_free(state1);
    pouw_buffer_free(state2);
    pouw_buffer_free(state);
    pouw_judge_free(judge);
    pouw_judge_free(NULL);
    pouw_dataset_request_free(decoded);
    pouw_dataset_request_free(request);
    pouw_dataset_request_free(NULL);
    pouw_params_free(params);
    pouw_dataset_free(dataset);

    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
