/* libFuzzer target: the real flag tables of `regrad train` (also taken by
 * gradcheck) and `regrad study` (tools/train_flags.c, tools/study/
 * study_flags.c). The first byte picks the table; the rest is split at NUL
 * bytes into argv[1..]. Any input gives "go on", 0 (help) or 2 (an error),
 * and when the command would go on, every setting is inside the range the
 * library accepts: what reaches rg_trainer_new, rg_mlp_new and the study
 * comes from the command line only through these checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "study_flags.h"
#include "train_flags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64
/* A broken invariant names itself before the fuzzer records the input. */
#define REQUIRE(cond)                                            \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "fuzz_flags: %s does not hold\n", #cond); \
      abort();                                                   \
    }                                                            \
  } while (0)
#define MAX_COUNT ((int64_t)1 << 53)

static void check_train(const train_options *o) {
  const train_config *c = &o->config;
  const rg_trainer_config *r = &c->run;
  REQUIRE(r->epochs >= 1 && r->epochs <= 1000000 && r->batch >= 1 && r->batch <= (1 << 24));
  REQUIRE(r->max_steps >= 0 && r->max_steps <= MAX_COUNT && r->save_every >= 0 && r->keep >= 0);
  REQUIRE(r->schedule.lr0 >= 0 && r->schedule.lr0 < INFINITY);
  REQUIRE(r->schedule.warmup_steps >= 0 && r->schedule.warmup_steps <= MAX_COUNT);
  REQUIRE(c->model.hidden >= 0 && c->model.hidden <= RG_MLP_MAX_LAYERS);
  for (int i = 0; i < c->model.hidden; i++) REQUIRE(c->model.widths[i] >= 1);
  REQUIRE(c->model.dropout >= 0 && c->model.dropout < 1);
  REQUIRE(c->threads >= 1 && c->threads <= 256);
  REQUIRE(memchr(o->config_text, 0, sizeof o->config_text) != NULL);
  REQUIRE(!r->keep || r->save_every); /* refused combinations stay refused */
  REQUIRE(!r->save_every || r->save_path);
}

static void check_study(const study_options *o) {
  const study_setup *s = &o->setup;
  REQUIRE(s->steps >= 1 && s->steps <= ((int64_t)1 << 40));
  REQUIRE(s->depth >= 1 && s->depth <= RG_MLP_MAX_LAYERS && s->width >= 1 && s->batch >= 2);
  REQUIRE(s->sample_every >= 1 && s->threads >= 1 && s->threads <= 256);
  REQUIRE(s->train_limit >= 0 && o->test_limit >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *text = malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  char *argv[MAX_ARGS + 1] = {"fuzz"};
  int argc = 1;
  for (size_t at = 0; at < size - 1 && argc < MAX_ARGS; at += strlen(text + at) + 1)
    argv[argc++] = text + at;
  argv[argc] = NULL;
  if (data[0] & 1) {
    static study_options o;
    int code = study_flags_parse(argc, argv, &o);
    if (code != -1 && code != 0 && code != 2) abort();
    if (code == -1) check_study(&o);
  } else {
    static train_options o;
    int code = train_flags_parse("regrad train", "regrad train [flags]", "fuzzing", argc, argv, &o);
    if (code != -1 && code != 0 && code != 2) abort();
    if (code == -1) check_train(&o);
  }
  free(text);
  return 0;
}
