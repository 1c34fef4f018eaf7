/* Checkpoints: a round trip restores tensors, seed, dropout stream and train
 * state bit for bit; the bytes are the documented little-endian layout; a
 * different model is rejected with RG_ESHAPE naming the tensor and leaves the
 * context unchanged; truncation at every byte and every single-bit flip give
 * RG_EFORMAT; hostile files with valid CRCs are rejected without crashing;
 * I/O failures give RG_EIO and leave the old file and no temporary behind;
 * and a saver SIGKILLed at random moments always leaves a loadable file. */
#define RG_TEST_MAIN
#include <dirent.h>
#include <sched.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"
#include "helpers.h"

/* ------------------------------------------------------------ files */

static void make_dir(char *dir, size_t len) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, len, "%s/regrad-ckpt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  cr_assert(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

/* Entries of dir other than . and ..; when prefix is set, removes the ones
 * starting with it and counts only those. */
static int dir_entries(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  cr_assert(d, "opendir %s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (!prefix) {
      n++;
    } else if (!strncmp(e->d_name, prefix, strlen(prefix))) {
      char p[600];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
      n++;
    }
  }
  closedir(d);
  return n;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (unlink(p) != 0) rmdir(p);
  }
  closedir(d);
  rmdir(dir);
}

static uint8_t *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(n ? (size_t)n : 1);
  cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  *size = (size_t)n;
  return b;
}

static void write_all(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "create %s", path);
  cr_assert(fwrite(b, 1, n, f) == n);
  cr_assert(fclose(f) == 0);
}

/* ------------------------------------------------------------ models */

typedef struct spec {
  const char *name;
  bool buffer;
  rg_shape shape;
} spec;

#define MODEL_N 6
static const spec model[MODEL_N] = {
    {"fc1.weight", false, {2, {8, 5}}},        {"fc1.bias", false, {1, {8}}},
    {"bn.running_mean", true, {1, {8}}},       {"fc2.weight", false, {2, {3, 8}}},
    {"adam.m.fc2.weight", true, {2, {3, 8}}}, {"conv", false, {4, {2, 1, 2, 2}}},
};

/* Creates the tensors of specs (in reverse order when reversed) with data
 * drawn from seed. */
static void build(rg_ctx *ctx, const spec *specs, int n, uint64_t seed, bool reversed) {
  for (int k = 0; k < n; k++) {
    int i = reversed ? n - 1 - k : k;
    rg_tensor *t = specs[i].buffer ? rg_buffer_new(ctx, specs[i].name, specs[i].shape, NULL)
                                   : rg_param_new(ctx, specs[i].name, specs[i].shape, NULL);
    cr_assert(t, "%s", rg_ctx_message(ctx));
    th_fill(rg_tensor_data(t), rg_tensor_numel(t), seed * 100 + (uint64_t)i, -2.0f, 2.0f);
  }
}

/* Everything a load may change: all tensor data in creation order, the seed
 * and the dropout stream. */
typedef struct snapshot {
  float *data;
  int64_t n;
  uint64_t seed, stream;
} snapshot;

static snapshot snap(rg_ctx *ctx) {
  snapshot s = {.seed = ctx->seed, .stream = ctx->dropout_stream};
  for (int i = 0; i < ctx->n_params; i++) s.n += ctx->params[i]->numel;
  s.data = malloc((size_t)(s.n ? s.n : 1) * sizeof(float));
  int64_t at = 0;
  for (int i = 0; i < ctx->n_params; i++) {
    memcpy(s.data + at, ctx->params[i]->data, (size_t)ctx->params[i]->numel * sizeof(float));
    at += ctx->params[i]->numel;
  }
  return s;
}

static bool same_snapshot(rg_ctx *ctx, const snapshot *s) {
  snapshot now = snap(ctx);
  bool same = now.n == s->n && now.seed == s->seed && now.stream == s->stream &&
              memcmp(now.data, s->data, (size_t)s->n * sizeof(float)) == 0;
  free(now.data);
  return same;
}

/* Loads path into ctx expecting status want with every one of needles in the
 * message, and checks that ctx and the train state are unchanged. */
static void expect_rejected(rg_ctx *ctx, const char *path, rg_status want,
                            const char *const *needles, int n_needles) {
  snapshot before = snap(ctx);
  rg_train_state st = {-1, -2};
  rg_status got = rg_checkpoint_load(ctx, path, &st);
  cr_assert_eq(got, want, "got %s (%s), expected %s", rg_status_name(got), rg_ctx_message(ctx),
               rg_status_name(want));
  for (int i = 0; i < n_needles; i++)
    cr_assert(strstr(rg_ctx_message(ctx), needles[i]), "message \"%s\" lacks \"%s\"",
              rg_ctx_message(ctx), needles[i]);
  cr_assert(same_snapshot(ctx, &before), "a failed load changed the context");
  cr_assert(st.step == -1 && st.epoch == -2, "a failed load changed the train state");
  free(before.data);
  rg_ctx_clear_error(ctx);
}
#define REJECT(ctx, path, want, ...)                                                  \
  do {                                                                                \
    const char *const needles_[] = {__VA_ARGS__};                                     \
    expect_rejected(ctx, path, want, needles_, sizeof needles_ / sizeof needles_[0]); \
  } while (0)

/* A saved checkpoint of the reference model (seed 1234, stream 3). */
static rg_ctx *saved_model(const char *path, const rg_train_state *st) {
  rg_ctx *ctx = th_ctx(1234);
  build(ctx, model, MODEL_N, 1, false);
  float *bias = rg_tensor_data(rg_param_find(ctx, "fc1.bias"));
  const uint32_t special[8] = {0x7fc12345u, 0x80000000u, 0x7f800000u, 0xff800000u,
                               0x00000001u, 0x7f7fffffu, 0xffbadbadu, 0x3f800000u};
  memcpy(bias, special, sizeof special); /* NaN payloads, -0, inf, denormal, max */
  rg_tensor *x = rg_tensor_new(ctx, rg_shape2(4, 4), NULL);
  for (int i = 0; i < 3; i++) cr_assert(rg_dropout(ctx, x, 0.5f), "%s", rg_ctx_message(ctx));
  rg_tape_reset(ctx);
  cr_assert_eq(ctx->dropout_stream, 3);
  cr_assert_eq(rg_checkpoint_save(ctx, path, st), RG_OK, "%s", rg_ctx_message(ctx));
  return ctx;
}

/* ------------------------------------------------------------ round trip */

Test(checkpoint, round_trip_is_bit_exact) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/model.ckpt", dir);
  const rg_train_state st = {(1ll << 40) + 5, 42};
  rg_ctx *a = saved_model(path, &st);

  rg_ctx *b = th_ctx(99); /* other seed, other data, other creation order */
  build(b, model, MODEL_N, 7, true);
  rg_stats before = rg_ctx_stats(b);
  rg_train_state got = {0, 0};
  cr_assert_eq(rg_checkpoint_load(b, path, &got), RG_OK, "%s", rg_ctx_message(b));
  cr_assert_eq(rg_ctx_stats(b).heap_bytes, before.heap_bytes, "load leaks heap memory");
  for (int i = 0; i < MODEL_N; i++) {
    rg_tensor *ta = rg_param_find(a, model[i].name), *tb = rg_param_find(b, model[i].name);
    cr_assert(memcmp(rg_tensor_data(ta), rg_tensor_data(tb),
                     (size_t)rg_tensor_numel(ta) * sizeof(float)) == 0,
              "%s differs after the round trip", model[i].name);
  }
  cr_assert(got.step == st.step && got.epoch == st.epoch);
  cr_assert_eq(b->seed, 1234);
  cr_assert_eq(b->dropout_stream, 3);
  /* st may be NULL; saving is deterministic. */
  cr_assert_eq(rg_checkpoint_load(b, path, NULL), RG_OK, "%s", rg_ctx_message(b));
  char path2[310];
  snprintf(path2, sizeof path2, "%s.again", path);
  cr_assert_eq(rg_checkpoint_save(a, path2, &st), RG_OK);
  size_t n1, n2;
  uint8_t *f1 = read_all(path, &n1), *f2 = read_all(path2, &n2);
  cr_assert(n1 == n2 && memcmp(f1, f2, n1) == 0, "two saves of one state differ");
  cr_assert_eq(dir_entries(dir, NULL), 2, "a temporary file was left behind");
  /* The restored seed and stream give the same next dropout mask. */
  float ones[64];
  for (int i = 0; i < 64; i++) ones[i] = 1.0f;
  rg_tensor *ya = rg_dropout(a, rg_tensor_new(a, rg_shape1(64), ones), 0.5f);
  rg_tensor *yb = rg_dropout(b, rg_tensor_new(b, rg_shape1(64), ones), 0.5f);
  cr_assert(ya && yb && memcmp(rg_tensor_data(ya), rg_tensor_data(yb), sizeof ones) == 0);
  free(f1), free(f2);
  rg_ctx_free(a), rg_ctx_free(b);
  remove_dir(dir);
}

static uint64_t le(const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

Test(checkpoint, layout_is_little_endian_as_documented) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/m.ckpt", dir);
  const rg_train_state st = {0x0102030405060708ll, 9};
  rg_ctx *ctx = saved_model(path, &st);
  size_t n;
  uint8_t *f = read_all(path, &n);
  size_t vlen = strlen(rg_version());
  cr_assert(memcmp(f, "RGCKPT\0\0", 8) == 0);
  cr_assert_eq(le(f + 8, 4), 2, "format version");
  cr_assert(memcmp(f + 12, "META", 4) == 0);
  cr_assert_eq(le(f + 16, 8), 60 + vlen);
  cr_assert_eq(le(f + 24, 8), 1234, "seed");
  cr_assert_eq(le(f + 32, 8), 3, "dropout stream");
  cr_assert(f[40] == 0x08 && f[47] == 0x01, "step is little-endian");
  cr_assert_eq(le(f + 48, 8), 9, "epoch");
  cr_assert_eq(le(f + 56, 8), MODEL_N, "tensor count");
  cr_assert(le(f + 64, 8) == 0 && le(f + 72, 8) == 0, "no state records, no attributes");
  cr_assert_eq(le(f + 80, 4), vlen);
  cr_assert(memcmp(f + 84, rg_version(), vlen) == 0);
  cr_assert_eq(le(f + 84 + vlen, 4), crc32(0, f + 12, (uInt)(12 + 60 + vlen)), "META CRC");
  const uint8_t *t = f + 88 + vlen; /* first TNSR: fc1.weight [8,5] */
  cr_assert(memcmp(t, "TNSR", 4) == 0);
  cr_assert_eq(le(t + 4, 8), 12 + 10 + 16 + 4 * 40);
  cr_assert_eq(le(t + 12, 4), 1, "kind parameter");
  cr_assert_eq(le(t + 16, 4), 10);
  cr_assert(memcmp(t + 20, "fc1.weight", 10) == 0);
  cr_assert(le(t + 30, 4) == 2 && le(t + 34, 8) == 8 && le(t + 42, 8) == 5);
  uint32_t bits;
  memcpy(&bits, rg_tensor_data(rg_param_find(ctx, "fc1.weight")), 4);
  cr_assert_eq(le(t + 50, 4), bits, "float data is little-endian IEEE-754 bits");
  cr_assert(memcmp(f + n - 16, "END\0", 4) == 0 && le(f + n - 12, 8) == 0, "END closes the file");
  free(f);
  rg_ctx_free(ctx);
  remove_dir(dir);
}

/* ------------------------------------------------------------ mismatches */

/* Loads the reference checkpoint into a model built from specs. */
static void reject_model(const spec *specs, int n, const char *name, const char *what,
                         const char *what2) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/m.ckpt", dir);
  rg_ctx *a = saved_model(path, NULL);
  rg_ctx *b = th_ctx(5);
  build(b, specs, n, 3, false);
  REJECT(b, path, RG_ESHAPE, "rg_checkpoint_load", name, what, what2);
  rg_ctx_free(a), rg_ctx_free(b);
  remove_dir(dir);
}

Test(checkpoint, different_shape_is_rejected) {
  spec s[MODEL_N];
  memcpy(s, model, sizeof s);
  s[3].shape = rg_shape2(3, 9);
  reject_model(s, MODEL_N, "\"fc2.weight\"", "[3,8] in the file", "[3,9] in the context");
  s[3].shape = rg_shape1(24); /* same count, other rank */
  reject_model(s, MODEL_N, "\"fc2.weight\"", "[3,8] in the file", "[24] in the context");
}

Test(checkpoint, tensor_missing_in_file_is_rejected) {
  spec s[MODEL_N + 1];
  memcpy(s, model, sizeof model);
  s[MODEL_N] = (spec){"adam.v.fc2.weight", true, {2, {3, 8}}};
  reject_model(s, MODEL_N + 1, "\"adam.v.fc2.weight\"", "missing in the file", "");
}

Test(checkpoint, tensor_extra_in_file_is_rejected) {
  spec s[MODEL_N];
  memcpy(s, model, sizeof s);
  s[4] = s[5]; /* drop adam.m.fc2.weight */
  reject_model(s, MODEL_N - 1, "\"adam.m.fc2.weight\"", "extra in the file", "");
}

Test(checkpoint, different_kind_is_rejected) {
  spec s[MODEL_N];
  memcpy(s, model, sizeof s);
  s[2].buffer = false;
  reject_model(s, MODEL_N, "\"bn.running_mean\"", "a buffer in the file",
               "a parameter in the context");
}

/* ------------------------------------------------------------ corruption */

/* The reference checkpoint's bytes, and a scratch path to write variants to. */
typedef struct corpus {
  char dir[256], path[300], scratch[310];
  rg_ctx *ctx;
  uint8_t *f;
  size_t n;
} corpus;

static void corpus_open(corpus *c) {
  make_dir(c->dir, sizeof c->dir);
  snprintf(c->path, sizeof c->path, "%s/m.ckpt", c->dir);
  snprintf(c->scratch, sizeof c->scratch, "%s/variant.ckpt", c->dir);
  c->ctx = saved_model(c->path, NULL);
  c->f = read_all(c->path, &c->n);
  cr_assert_gt(c->n, 500);
}

static void corpus_close(corpus *c) {
  free(c->f);
  rg_ctx_free(c->ctx);
  remove_dir(c->dir);
}

Test(checkpoint, truncation_at_every_byte_is_format_error) {
  corpus c;
  corpus_open(&c);
  for (size_t k = 0; k < c.n; k++) {
    write_all(c.scratch, c.f, k);
    REJECT(c.ctx, c.scratch, RG_EFORMAT, "rg_checkpoint_load: \"", "truncated");
  }
  write_all(c.scratch, c.f, c.n);
  cr_assert_eq(rg_checkpoint_load(c.ctx, c.scratch, NULL), RG_OK, "%s", rg_ctx_message(c.ctx));
  corpus_close(&c);
}

Test(checkpoint, every_single_bit_flip_is_format_error) {
  corpus c;
  corpus_open(&c);
  /* Every bit: header, framing, META, names, shapes, data, CRCs, END. */
  for (size_t bit = 0; bit < 8 * c.n; bit++) {
    c.f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    write_all(c.scratch, c.f, c.n);
    REJECT(c.ctx, c.scratch, RG_EFORMAT, "rg_checkpoint_load: \"");
    c.f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  corpus_close(&c);
}

/* A test-side encoder of the documented format, independent of the
 * library's, for hostile files whose CRCs are valid. */
typedef struct fbuf {
  uint8_t b[4096];
  size_t n;
} fbuf;

static void f_bytes(fbuf *f, const void *p, size_t n) {
  cr_assert(f->n + n <= sizeof f->b);
  memcpy(f->b + f->n, p, n);
  f->n += n;
}
static void f_le(fbuf *f, uint64_t v, int bytes) {
  cr_assert(f->n + (size_t)bytes <= sizeof f->b);
  for (int i = 0; i < bytes; i++) f->b[f->n++] = (uint8_t)(v >> 8 * i);
}
#define f_u32(f, v) f_le(f, v, 4)
#define f_u64(f, v) f_le(f, v, 8)
static void f_section(fbuf *f, const char *tag, const fbuf *payload) {
  size_t at = f->n;
  f_bytes(f, tag, 4);
  f_u64(f, payload->n);
  f_bytes(f, payload->b, payload->n);
  f_u32(f, (uint32_t)crc32(0, f->b + at, (uInt)(f->n - at)));
}
static void f_header(fbuf *f, uint32_t version) {
  f_bytes(f, "RGCKPT\0\0", 8);
  f_u32(f, version);
}
/* META of a version 2 file (version 1: the optimizer step count 13 after
 * the epoch, and no state or attribute counts). */
static void f_meta(fbuf *f, uint32_t version, uint64_t count, uint64_t states, uint64_t attrs) {
  fbuf p = {.n = 0};
  f_u64(&p, 777), f_u64(&p, 5);  /* seed, stream */
  f_u64(&p, 11), f_u64(&p, 12);  /* step, epoch */
  if (version == 1) f_u64(&p, 13);
  f_u64(&p, count);
  if (version != 1) f_u64(&p, states), f_u64(&p, attrs);
  f_u32(&p, 5);
  f_bytes(&p, "9.9.9", 5);
  f_section(f, "META", &p);
}
static void f_tensor(fbuf *f, uint32_t kind, const char *name, uint32_t name_len, uint32_t rank,
                     const uint64_t *dims, uint32_t n_floats) {
  fbuf p = {.n = 0};
  f_u32(&p, kind);
  f_u32(&p, name_len);
  f_bytes(&p, name, name_len <= 8 ? name_len : strlen(name)); /* "w\0": a NUL inside */
  f_u32(&p, rank);
  for (uint32_t i = 0; i < rank && i < 4; i++) f_u64(&p, dims[i]);
  for (uint32_t i = 0; i < n_floats; i++) {
    float v = 0.5f * (float)i;
    uint32_t u;
    memcpy(&u, &v, 4);
    f_u32(&p, u);
  }
  f_section(f, "TNSR", &p);
}
/* A STAT or ATTR section: name length, name, then the bytes. */
static void f_record(fbuf *f, const char *tag, const char *name, const void *bytes, size_t n) {
  fbuf p = {.n = 0};
  f_u32(&p, (uint32_t)strlen(name));
  f_bytes(&p, name, strlen(name));
  f_bytes(&p, bytes, n);
  f_section(f, tag, &p);
}
static void f_end(fbuf *f) { f_section(f, "END\0", &(fbuf){.n = 0}); }

static const uint64_t dims23[4] = {2, 3, 1, 1};

/* The one-tensor file for a context holding parameter "w" [2,3], with one
 * field replaced by the caller's hook. */
typedef struct variant {
  uint32_t version, kind, name_len, rank, n_floats;
  uint64_t count;
  const char *name;
  const uint64_t *dims;
  int tensors;         /* TNSR sections written */
  const char *between; /* an extra section tag before END */
  bool no_end, trailing;
  uint64_t attr_count; /* META's attribute count (attrs written, unless set) */
  int attrs;           /* ATTR sections "k0", "k1", ... written */
  const char *value;   /* their value ("v") */
  size_t value_len;
} variant;

static size_t encode(fbuf *f, variant v) {
  f->n = 0;
  uint32_t version = v.version ? v.version : 2;
  f_header(f, version);
  f_meta(f, version, v.count ? v.count : 1, 0, v.attr_count ? v.attr_count : (uint64_t)v.attrs);
  for (int i = 0; i < (v.tensors ? v.tensors : 1); i++)
    f_tensor(f, v.kind ? v.kind : 1, v.name ? v.name : "w", v.name_len ? v.name_len : 1,
             v.rank ? v.rank : 2, v.dims ? v.dims : dims23, v.n_floats ? v.n_floats : 6);
  for (int i = 0; i < v.attrs; i++)
    f_record(f, "ATTR", i == 1 && v.name ? v.name : (i ? "k1" : "k0"),
             v.value ? v.value : "v", v.value ? v.value_len : 1);
  if (v.between) f_section(f, v.between, &(fbuf){.n = 0});
  if (!v.no_end) f_end(f);
  if (v.trailing) f_u32(f, 0);
  return f->n;
}

Test(checkpoint, hostile_files_with_valid_crcs_are_rejected) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/h.ckpt", dir);
  rg_ctx *ctx = th_ctx(1);
  cr_assert(rg_param_new(ctx, "w", rg_shape2(2, 3), NULL));
  static fbuf f;

  /* The test encoder writes a file the library accepts: the format is as
   * documented. */
  write_all(path, f.b, encode(&f, (variant){0}));
  rg_train_state st;
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(st.step == 11 && st.epoch == 12);
  cr_assert(ctx->seed == 777 && ctx->dropout_stream == 5);
  cr_assert_eq(rg_tensor_data(rg_param_find(ctx, "w"))[5], 2.5f);
  /* A version 1 file (regrad 0.1) still loads; attributes are read. */
  write_all(path, f.b, encode(&f, (variant){.version = 1}));
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(st.step == 11 && st.epoch == 12);
  write_all(path, f.b, encode(&f, (variant){.attrs = 2}));
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_str_eq(rg_ctx_attr(ctx, "k1"), "v");
  /* A version 1 file cannot restore an optimizer (no state records): the
   * message says so and how to load the weights alone. */
  write_all(path, f.b, encode(&f, (variant){.version = 1}));
  rg_optim *opt = rg_optim_new(ctx, &(rg_optim_config){.kind = RG_SGD, .lr = 0.1f});
  REJECT(ctx, path, RG_ESHAPE, "state \"optim.0\" of the context is missing",
         "rg_checkpoint_load_model");
  cr_assert_eq(rg_checkpoint_load_model(ctx, path), RG_OK, "%s", rg_ctx_message(ctx));
  rg_optim_free(opt);

  const uint64_t huge[4] = {1ull << 40, 1ull << 40}, zero[4] = {2, 0};
  const uint64_t neg[4] = {1ull << 63, 1};
  const struct {
    variant v;
    const char *needle;
  } cases[] = {
      {{.version = 3}, "format version 3 is newer than this library's 2"},
      {{.version = 0xffffffffu}, "is newer than this library's 2"},
      {{.count = 1ull << 60}, "META counts"},
      {{.attr_count = 1ull << 60}, "META counts 1152921504606846976 attributes"},
      {{.count = 2}, "tensor 2 of 2 (\"TNSR\") was expected"},
      {{.tensors = 2}, "section \"TNSR\" after the 1 tensors, 0 states and 0 attributes"},
      {{.attrs = 1, .attr_count = 2}, "attribute 2 of 2 (\"ATTR\") was expected"},
      {{.attrs = 2, .name = "k0"}, "attribute name \"k0\" appears twice"},
      {{.attrs = 1, .value = "a\0b", .value_len = 3}, "the value holds a NUL byte"},
      {{.count = 2, .tensors = 2}, "tensor name \"w\" appears twice"},
      {{.kind = 3}, "kind 3"},
      {{.name_len = 0xffffffffu}, "bad name"},
      {{.name = "w\0", .name_len = 2}, "bad name"},
      {{.rank = 5}, "bad rank 5"},
      {{.rank = 0xffffffffu}, "bad rank"},
      {{.dims = huge}, "dimension 1"},
      {{.dims = zero}, "dimension 1 is 0"},
      {{.dims = neg}, "dimension 0"},
      {{.n_floats = 5}, "20 data bytes, its shape [2,3] needs 24"},
      {{.n_floats = 7}, "28 data bytes"},
      {{.between = "META"}, "section \"META\" after the"},
      {{.between = "XYZW"}, "section \"XYZW\" after the"},
      {{.no_end = true}, "truncated"},
      {{.trailing = true}, "bytes follow the END section"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_all(path, f.b, encode(&f, cases[i].v));
    REJECT(ctx, path, RG_EFORMAT, cases[i].needle);
  }
  /* Version 0, a short META, a length that would wrap, no magic. */
  f.n = 0;
  f_header(&f, 0);
  write_all(path, f.b, f.n);
  REJECT(ctx, path, RG_EFORMAT, "format version 0 is invalid");
  f.n = 0;
  f_header(&f, 2);
  f_section(&f, "META", &(fbuf){.n = 3});
  write_all(path, f.b, f.n);
  REJECT(ctx, path, RG_EFORMAT, "META is 3 bytes");
  /* A section length near 2^64 must not wrap the bounds check. */
  f.n = 0;
  f_header(&f, 1);
  f_bytes(&f, "META", 4);
  f_u64(&f, ~0ull - 3);
  f_u32(&f, 0);
  write_all(path, f.b, f.n);
  REJECT(ctx, path, RG_EFORMAT, "truncated");
  write_all(path, (const uint8_t *)"not a checkpoint at all", 23);
  REJECT(ctx, path, RG_EFORMAT, "bad magic");
  rg_ctx_free(ctx);
  remove_dir(dir);
}

/* ------------------------------------------------------------ I/O errors */

Test(checkpoint, io_errors_give_eio_and_leave_no_file) {
  char dir[256], path[400];
  make_dir(dir, sizeof dir);
  rg_ctx *ctx = th_ctx(3);
  build(ctx, model, MODEL_N, 2, false);

  snprintf(path, sizeof path, "%s/no/such/dir/m.ckpt", dir);
  cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EIO);
  cr_assert(strstr(rg_ctx_message(ctx), path), "%s", rg_ctx_message(ctx));
  cr_assert(strstr(rg_ctx_message(ctx), strerror(ENOENT)), "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert_eq(dir_entries(dir, NULL), 0);

  /* path is a directory: refused before anything is written. */
  snprintf(path, sizeof path, "%s/sub", dir);
  cr_assert(mkdir(path, 0700) == 0);
  cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EIO);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_checkpoint_save: \""), "%s", rg_ctx_message(ctx));
  cr_assert(strstr(rg_ctx_message(ctx), "\" is a directory; a save replaces only a regular file"),
            "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert_eq(dir_entries(dir, NULL), 1, "only sub/ remains");
  REJECT(ctx, path, RG_EIO, "is a directory, expected a regular file");

  snprintf(path, sizeof path, "%s/absent.ckpt", dir);
  REJECT(ctx, path, RG_EIO, "cannot open", path, strerror(ENOENT));

  /* Bad arguments and a pending error write nothing. */
  cr_assert_eq(rg_checkpoint_save(NULL, path, NULL), RG_EINVAL);
  cr_assert_eq(rg_checkpoint_load(NULL, path, NULL), RG_EINVAL);
  cr_assert_eq(rg_checkpoint_save(ctx, NULL, NULL), RG_EINVAL);
  cr_assert(strstr(rg_ctx_message(ctx), "rg_checkpoint_save: path is NULL"));
  cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EINVAL, "the error is sticky");
  rg_ctx_clear_error(ctx);
  REJECT(ctx, "", RG_EINVAL, "rg_checkpoint_load: path is empty");
  cr_assert_eq(dir_entries(dir, NULL), 1);
  rg_ctx_free(ctx);
  remove_dir(dir);
}

/* Loading from a FIFO blocked in open() for ever (no writer); a directory
 * or a device is not a checkpoint either. Each is refused at once, naming
 * what it is (red-team issue 16, item 2). */
Test(checkpoint, load_refuses_fifos_directories_and_devices, .timeout = 30) {
  char dir[256], path[400];
  make_dir(dir, sizeof dir);
  rg_ctx *ctx = th_ctx(3);
  build(ctx, model, MODEL_N, 2, false);
  snprintf(path, sizeof path, "%s/fifo", dir);
  cr_assert(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
  REJECT(ctx, path, RG_EIO, "rg_checkpoint_load: \"", path,
         "\" is a FIFO, expected a regular file");
  REJECT(ctx, dir, RG_EIO, "\" is a directory, expected a regular file");
  /* Opening /dev/null to read it is harmless; nothing here writes to it. */
  REJECT(ctx, "/dev/null", RG_EIO,
         "rg_checkpoint_load: \"/dev/null\" is a character device, expected a regular file");
  rg_ctx_free(ctx);
  remove_dir(dir);
}

/* A write that fails midway (the file-size limit) leaves the old file. */
Test(checkpoint, failed_write_keeps_the_old_file) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/m.ckpt", dir);
  const rg_train_state old = {1, 2};
  rg_ctx *ctx = saved_model(path, &old);
  snapshot saved = snap(ctx);
  rg_ctx *big = th_ctx(4);
  cr_assert(rg_param_new(big, "fc1.weight", rg_shape2(256, 256), NULL));

  struct rlimit lim;
  cr_assert(getrlimit(RLIMIT_FSIZE, &lim) == 0);
  struct rlimit small = {100000, lim.rlim_max};
  signal(SIGXFSZ, SIG_IGN);
  cr_assert(setrlimit(RLIMIT_FSIZE, &small) == 0);
  rg_status s = rg_checkpoint_save(big, path, NULL);
  cr_assert(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  cr_assert_eq(s, RG_EIO, "%s", rg_ctx_message(big));
  cr_assert(strstr(rg_ctx_message(big), strerror(EFBIG)), "%s", rg_ctx_message(big));
  cr_assert_eq(dir_entries(dir, NULL), 1, "the temporary file was removed");

  for (int i = 0; i < ctx->n_params; i++)
    memset(ctx->params[i]->data, 0, (size_t)ctx->params[i]->numel * sizeof(float));
  rg_train_state st;
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(same_snapshot(ctx, &saved), "the old checkpoint is intact");
  cr_assert(st.step == 1 && st.epoch == 2);
  free(saved.data);
  rg_ctx_free(ctx), rg_ctx_free(big);
  remove_dir(dir);
}

/* ------------------------------------------------------------ crash safety */

#define BIG_ROWS 1024 /* 1024 x 1024 float32: 4 MiB */

static void fill_step(rg_ctx *ctx, int64_t step) {
  float *d = rg_tensor_data(rg_param_find(ctx, "big"));
  for (int64_t j = 0; j < (int64_t)BIG_ROWS * BIG_ROWS; j++)
    d[j] = (float)((step * 1000003 + j) % 16777216);
  rg_tensor_data(rg_param_find(ctx, "marker"))[0] = (float)step;
}

static rg_ctx *big_model(uint64_t seed) {
  rg_config cfg = {.seed = seed};
  rg_ctx *ctx = rg_ctx_new(&cfg);
  if (!ctx || !rg_param_new(ctx, "big", rg_shape2(BIG_ROWS, BIG_ROWS), NULL) ||
      !rg_buffer_new(ctx, "marker", rg_shape1(1), NULL))
    return NULL;
  return ctx;
}

/* The child: saves steps first, first+1, ... to path until killed, telling
 * the parent (after a ready marker) each step whose save returned. */
static void saver(const char *path, int64_t first, int fd) {
  rg_ctx *ctx = big_model(first);
  if (!ctx) _exit(2);
  int64_t ready = -1;
  if (write(fd, &ready, sizeof ready) != sizeof ready) _exit(2);
  for (int64_t step = first;; step++) {
    fill_step(ctx, step);
    rg_train_state st = {step, 2 * step};
    ctx->seed = (uint64_t)step;
    if (rg_checkpoint_save(ctx, path, &st) != RG_OK) _exit(3);
    if (write(fd, &step, sizeof step) != sizeof step) _exit(2);
  }
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Loads path into ctx and checks it holds one complete, consistent step. */
static int64_t load_consistent(rg_ctx *ctx, const char *path) {
  rg_train_state st;
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(st.epoch == 2 * st.step);
  cr_assert_eq(ctx->seed, (uint64_t)st.step, "seed of the saving context");
  cr_assert_eq(rg_tensor_data(rg_param_find(ctx, "marker"))[0], (float)st.step);
  const float *d = rg_tensor_data(rg_param_find(ctx, "big"));
  for (int64_t j = 0; j < (int64_t)BIG_ROWS * BIG_ROWS; j++)
    if (d[j] != (float)((st.step * 1000003 + j) % 16777216))
      cr_assert_fail("step %lld: element %lld is torn", (long long)st.step, (long long)j);
  return st.step;
}

Test(checkpoint, sigkill_during_save_leaves_old_or_new_file, .timeout = 60) {
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/run.ckpt", dir);
  rg_ctx *ctx = big_model(0);
  cr_assert(ctx);
  fill_step(ctx, 0);
  rg_train_state st0 = {0, 0};
  double t0 = now_us();
  cr_assert_eq(rg_checkpoint_save(ctx, path, &st0), RG_OK, "%s", rg_ctx_message(ctx));
  double save_us = now_us() - t0;
  /* Kill anywhere within about three saves of the child's first one. */
  double window = 3 * save_us + 2000;
  if (window > 300000) window = 300000;

  uint64_t rng = 20240611;
  int64_t prev = 0;
  int rounds = 24, newer = 0, between = 0, temps = 0;
  for (int r = 0; r < rounds; r++) {
    int p[2];
    cr_assert(pipe(p) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      saver(path, prev + 1, p[1]);
      _exit(4);
    }
    close(p[1]);
    int64_t msg;
    cr_assert(read(p[0], &msg, sizeof msg) == sizeof msg && msg == -1, "child not ready");
    usleep((useconds_t)((double)(th_next(&rng) >> 11) * 0x1p-53 * window));
    kill(pid, SIGKILL);
    int status;
    cr_assert(waitpid(pid, &status, 0) == pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the saver stopped on its own (status %d)", status);
    int64_t last = prev; /* the last step whose save returned */
    while (read(p[0], &msg, sizeof msg) == sizeof msg) last = msg;
    close(p[0]);

    int64_t got = load_consistent(ctx, path);
    cr_assert(got == last || got == last + 1,
              "round %d: loaded step %lld, last completed save %lld", r, (long long)got,
              (long long)last);
    newer += got > prev;
    between += got == last + 1 && got > prev; /* killed after the rename */
    temps += dir_entries(dir, ".run.ckpt."); /* a killed saver's temporary file, if any */
    cr_assert_eq(dir_entries(dir, NULL), 1, "only run.ckpt and the child's temporary file");
    prev = got;
  }
  fprintf(stderr, "crash safety: %d rounds, %d advanced, %d killed between rename and return, "
          "%d stale temporaries, save %.1f ms\n", rounds, newer, between, temps, save_us / 1e3);
  cr_assert_gt(newer, 0, "no save ever completed: the kills all came too early");

  /* A killed saver's leftover temporary file does not disturb a save, and a
   * save does not delete it (nothing proves whose it is). */
  char stale[320];
  snprintf(stale, sizeof stale, "%s/.run.ckpt.AAAAAAAA", dir);
  write_all(stale, (const uint8_t *)"garbage", 7);
  fill_step(ctx, prev + 1);
  rg_train_state st = {prev + 1, 2 * (prev + 1)};
  ctx->seed = (uint64_t)(prev + 1);
  cr_assert_eq(rg_checkpoint_save(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_eq(load_consistent(ctx, path), prev + 1);
  cr_assert_eq(dir_entries(dir, NULL), 2, "run.ckpt and the leftover");
  size_t n;
  uint8_t *left = read_all(stale, &n);
  cr_assert(n == 7 && !memcmp(left, "garbage", 7));
  free(left);
  rg_ctx_free(ctx);
  remove_dir(dir);
}

/* ------------------------------------------------------------ save targets */

/* A save replaces only a regular file. It used to rename its temporary file
 * over whatever path named, so `--save /dev/null` as root replaced
 * /dev/null. Here a FIFO, a character device (made with mknod when running
 * as root; /dev/null itself is never touched), a directory and symbolic
 * links to them are refused and left in place, and no temporary file stays
 * behind (red-team issue 16, item 3). */
static void refuses_special_files(bool named) {
  char dir[256], path[400], link[400];
  make_dir(dir, sizeof dir);
  rg_ctx *ctx = th_ctx(3);
  ctx->save_named = named;
  build(ctx, model, MODEL_N, 2, false);
  struct stat sb;

  snprintf(path, sizeof path, "%s/fifo", dir);
  cr_assert(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
  cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EIO, "a FIFO was replaced");
  cr_assert(strstr(rg_ctx_message(ctx), "is a FIFO; a save replaces only a regular file"), "%s",
            rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert(lstat(path, &sb) == 0 && S_ISFIFO(sb.st_mode), "the FIFO is gone");
  snprintf(link, sizeof link, "%s/to-fifo", dir);
  cr_assert(symlink("fifo", link) == 0);
  cr_assert_eq(rg_checkpoint_save(ctx, link, NULL), RG_EIO);
  cr_assert(strstr(rg_ctx_message(ctx), "is a FIFO"), "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode), "the link is gone");

  snprintf(path, sizeof path, "%s/null", dir);
  bool device = mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0;
  if (device) {
    cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EIO, "a device was replaced");
    cr_assert(strstr(rg_ctx_message(ctx), "is a character device"), "%s", rg_ctx_message(ctx));
    rg_ctx_clear_error(ctx);
    cr_assert(lstat(path, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3),
              "the device is gone");
  } else {
    fprintf(stderr, "save onto a character device: not checked (mknod: %s)\n", strerror(errno));
  }

  snprintf(path, sizeof path, "%s/sub", dir);
  cr_assert(mkdir(path, 0700) == 0);
  cr_assert_eq(rg_checkpoint_save(ctx, path, NULL), RG_EIO);
  cr_assert(strstr(rg_ctx_message(ctx), "is a directory"), "%s", rg_ctx_message(ctx));
  rg_ctx_clear_error(ctx);
  cr_assert(lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode));

  /* A link to a regular file is followed: the file is replaced, the link
   * stays; so is a link to a file that does not exist yet. */
  snprintf(path, sizeof path, "%s/sub/real.ckpt", dir);
  snprintf(link, sizeof link, "%s/link.ckpt", dir);
  cr_assert(symlink("sub/real.ckpt", link) == 0);
  cr_assert_eq(rg_checkpoint_save(ctx, link, &(rg_train_state){1, 1}), RG_OK, "%s",
               rg_ctx_message(ctx));
  cr_assert(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode), "the link was replaced");
  cr_assert(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode), "the link's target was not created");
  mode_t mask = umask(0);
  umask(mask);
  cr_assert_eq(sb.st_mode & 0777, 0666 & ~mask, "mode %o, umask %o", sb.st_mode & 0777, mask);
  cr_assert_eq(rg_checkpoint_save(ctx, link, &(rg_train_state){2, 2}), RG_OK, "%s",
               rg_ctx_message(ctx));
  rg_train_state st;
  cr_assert_eq(rg_checkpoint_load(ctx, path, &st), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_eq(st.step, 2);

  /* Nothing else was created: no temporary file anywhere. */
  cr_assert_eq(dir_entries(dir, NULL), device ? 5 : 4, "fifo, to-fifo, null, sub, link.ckpt");
  snprintf(path, sizeof path, "%s/sub", dir);
  cr_assert_eq(dir_entries(path, NULL), 1, "sub/ holds real.ckpt only");
  snprintf(path, sizeof path, "%s/sub/real.ckpt", dir);
  unlink(path);
  rg_ctx_free(ctx);
  remove_dir(dir);
}

Test(checkpoint, save_refuses_fifos_devices_and_directories, .timeout = 60) {
  refuses_special_files(false);
}

Test(checkpoint, named_save_refuses_fifos_devices_and_directories, .timeout = 60) {
  refuses_special_files(true);
}

/* Saves rounds checkpoints of steps id * 1000 + r to path; 0 when every save
 * succeeded (1 when this process was not PID 1 of its own namespace), 3 when
 * one failed. */
static int save_rounds(const char *path, int id, int rounds, bool named) {
  rg_ctx *ctx = big_model((uint64_t)id);
  if (!ctx) return 2;
  ctx->save_named = named;
  for (int r = 0; r < rounds; r++) {
    int64_t step = (int64_t)id * 1000 + r;
    fill_step(ctx, step);
    rg_train_state st = {step, 2 * step};
    ctx->seed = (uint64_t)step;
    if (rg_checkpoint_save(ctx, path, &st) != RG_OK) {
      fprintf(stderr, "saver %d (pid %ld): %s\n", id, (long)getpid(), rg_ctx_message(ctx));
      return 3;
    }
  }
  rg_ctx_free(ctx);
  return getpid() == 1 ? 0 : 1;
}

/* Several processes save to one path at once, each in its own PID namespace
 * where it is PID 1 (containers on shared storage): "<path>.tmp.<pid>" was
 * the same name for all of them, so they wrote into one temporary file and
 * renamed each other's half-written data into place. Every save must
 * succeed, every load in between must find a complete checkpoint, and the
 * last one must be one saver's. Without the right to make PID namespaces
 * the savers are plain processes. */
static void concurrent_savers(bool named) {
  enum { SAVERS = 4, ROUNDS = 6 };
  char dir[256], path[300];
  make_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/run.ckpt", dir);
  rg_ctx *ctx = big_model(0);
  cr_assert(ctx);
  fill_step(ctx, 0);
  ctx->seed = 0;
  cr_assert_eq(rg_checkpoint_save(ctx, path, &(rg_train_state){0, 0}), RG_OK);
  pid_t pids[SAVERS];
  for (int k = 0; k < SAVERS; k++) {
    pids[k] = fork();
    cr_assert(pids[k] >= 0);
    if (pids[k] > 0) continue;
    if (unshare(CLONE_NEWPID) == 0) {
      pid_t inner = fork();
      if (inner == 0) _exit(save_rounds(path, k + 1, ROUNDS, named));
      int status;
      if (inner < 0 || waitpid(inner, &status, 0) != inner) _exit(2);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
    }
    _exit(save_rounds(path, k + 1, ROUNDS, named));
  }
  int running = SAVERS, loads = 0, as_pid1 = 0;
  while (running > 0) {
    int64_t step = load_consistent(ctx, path);
    cr_assert(step == 0 || (step % 1000 < ROUNDS && step / 1000 >= 1 && step / 1000 <= SAVERS),
              "step %lld is nobody's", (long long)step);
    loads++;
    for (int k = 0; k < SAVERS; k++) {
      int status;
      if (pids[k] <= 0 || waitpid(pids[k], &status, WNOHANG) != pids[k]) continue;
      cr_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1,
                "saver %d failed (status %d): a save collided with another", k + 1, status);
      as_pid1 += WEXITSTATUS(status) == 0;
      pids[k] = 0;
      running--;
    }
  }
  int64_t last = load_consistent(ctx, path);
  cr_assert(last % 1000 == ROUNDS - 1, "the file holds step %lld, not a saver's last",
            (long long)last);
  fprintf(stderr, "concurrent savers (%s temporary files): %d of %d as PID 1 of their "
          "namespace, %d loads in between\n", named ? "named" : "O_TMPFILE", as_pid1, SAVERS,
          loads);
  cr_assert_eq(dir_entries(dir, NULL), 1, "a temporary file was left behind");
  rg_ctx_free(ctx);
  remove_dir(dir);
}

Test(checkpoint, concurrent_savers_never_corrupt_the_file, .timeout = 240) {
  concurrent_savers(false);
}

/* The same through named temporary files (file systems without O_TMPFILE). */
Test(checkpoint, concurrent_named_savers_never_corrupt_the_file, .timeout = 240) {
  concurrent_savers(true);
}
