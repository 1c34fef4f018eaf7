/* The data layer: IDX loading (real Fashion-MNIST, plain vs gzip, every kind
 * of bad file), permutations, splits, k-fold, standardization and the
 * batcher. IDX fixtures are written to a temporary directory per test. */
#define RG_TEST_MAIN
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "helpers.h"

/* ------------------------------------------------------------- fixtures */

typedef struct tmp {
  char dir[64];
} tmp;

static tmp tmp_new(void) {
  tmp t;
  strcpy(t.dir, "/tmp/rg_test_data_XXXXXX");
  cr_assert(mkdtemp(t.dir), "mkdtemp failed");
  return t;
}

static const char *tmp_path(const tmp *t, const char *name) {
  static char path[2][384];
  static int flip;
  flip ^= 1;
  snprintf(path[flip], sizeof path[flip], "%s/%s", t->dir, name);
  return path[flip];
}

static void tmp_free(tmp *t) {
  DIR *d = opendir(t->dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    const char *p = tmp_path(t, e->d_name);
    if (e->d_name[0] != '.' && unlink(p) != 0) rmdir(p);
  }
  if (d) closedir(d);
  rmdir(t->dir);
}

static void write_bytes(const char *path, bool gz, const uint8_t *p, size_t len) {
  if (gz) {
    gzFile f = gzopen(path, "wb");
    cr_assert(f && gzwrite(f, p, (unsigned)len) == (int)len && gzclose(f) == Z_OK, "%s", path);
  } else {
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(p, 1, len, f) == len && fclose(f) == 0, "%s", path);
  }
}

static uint8_t *read_bytes(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "%s", path);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  uint8_t *p = malloc(*len + 1);
  cr_assert(fread(p, 1, *len, f) == *len);
  fclose(f);
  return p;
}

/* An IDX file in memory: header for dims, then payload. */
typedef struct idx_bytes {
  uint8_t buf[4096];
  size_t len;
} idx_bytes;

static idx_bytes idx_make(int ndim, const uint32_t *dims, const uint8_t *payload, size_t n) {
  idx_bytes b = {.buf = {0, 0, 0x08, (uint8_t)ndim}, .len = 4};
  for (int d = 0; d < ndim; d++)
    for (int s = 24; s >= 0; s -= 8) b.buf[b.len++] = (uint8_t)(dims[d] >> s);
  cr_assert(b.len + n <= sizeof b.buf);
  memcpy(b.buf + b.len, payload, n);
  b.len += n;
  return b;
}

/* The synthetic set: 50 images of 4x3, pixel (i, j) = (7i + 3j) mod 256,
 * label i mod 5. */
enum { SN = 50, SR = 4, SC = 3 };
static idx_bytes synth_images(void) {
  uint8_t px[SN * SR * SC];
  for (int i = 0; i < SN; i++)
    for (int j = 0; j < SR * SC; j++) px[i * SR * SC + j] = (uint8_t)((7 * i + 3 * j) % 256);
  return idx_make(3, (uint32_t[]){SN, SR, SC}, px, sizeof px);
}
static idx_bytes synth_labels(int n) {
  uint8_t lab[SN + 8];
  for (int i = 0; i < n; i++) lab[i] = (uint8_t)(i % 5);
  return idx_make(1, (uint32_t[]){(uint32_t)n}, lab, (size_t)n);
}

static void write_idx(const char *path, bool gz, const idx_bytes *b) {
  write_bytes(path, gz, b->buf, b->len);
}

static void assert_same(const rg_dataset *a, const rg_dataset *b) {
  cr_assert(a && b);
  cr_assert(a->n == b->n && a->features == b->features && a->rows == b->rows &&
            a->cols == b->cols && a->classes == b->classes);
  cr_assert_eq(memcmp(a->x, b->x, (size_t)(a->n * a->features) * sizeof(float)), 0);
  cr_assert_eq(memcmp(a->y, b->y, (size_t)a->n * sizeof(int32_t)), 0);
}

/* The call failed with code and a message holding each non-NULL part; the
 * error is cleared afterwards. */
static void expect_error(rg_ctx *ctx, rg_status code, const char *part1, const char *part2) {
  const char *msg = rg_ctx_message(ctx);
  cr_expect_eq(rg_ctx_status(ctx), code, "want %s, got %s: %s", rg_status_name(code),
               rg_status_name(rg_ctx_status(ctx)), msg);
  if (part1) cr_expect(strstr(msg, part1), "\"%s\" not in: %s", part1, msg);
  if (part2) cr_expect(strstr(msg, part2), "\"%s\" not in: %s", part2, msg);
  rg_ctx_clear_error(ctx);
}

/* Mean and standard deviation over all of x, in double. */
static void moments(const rg_dataset *ds, double *mean, double *std) {
  double s = 0, ss = 0, n = (double)(ds->n * ds->features);
  for (int64_t i = 0; i < ds->n * ds->features; i++) s += ds->x[i];
  *mean = s / n;
  for (int64_t i = 0; i < ds->n * ds->features; i++) ss += (ds->x[i] - *mean) * (ds->x[i] - *mean);
  *std = sqrt(ss / n);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ------------------------------------------------------------- real data */

static bool have_fashion(void) {
  if (access(RG_DEFAULT_DATA_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return true;
  fprintf(stderr, "SKIP: %s is missing (install dataset-fashion-mnist)\n", RG_DEFAULT_DATA_DIR);
  return false;
}

static void check_fashion(const rg_dataset *ds, int64_t n) {
  cr_assert(ds);
  cr_assert_eq(ds->n, n);
  cr_assert(ds->features == 784 && ds->rows == 28 && ds->cols == 28 && ds->classes == 10);
  float lo = 1, hi = 0;
  for (int64_t i = 0; i < n * 784; i++) {
    lo = fminf(lo, ds->x[i]);
    hi = fmaxf(hi, ds->x[i]);
    float p = ds->x[i] * 255.0f;
    if (fabsf(p - roundf(p)) > 1e-4f)
      cr_assert_fail("x[%lld] = %g is not a byte / 255", (long long)i, (double)ds->x[i]);
  }
  cr_assert(lo == 0.0f && hi == 1.0f, "pixel range [%g, %g]", (double)lo, (double)hi);
  int64_t hist[10] = {0};
  for (int64_t i = 0; i < n; i++) hist[ds->y[i]]++;
  for (int c = 0; c < 10; c++)
    cr_assert_eq(hist[c], n / 10, "class %d: %lld", c, (long long)hist[c]);
}

Test(idx, fashion_mnist_train_and_test) {
  if (!have_fashion()) cr_skip_test("Fashion-MNIST is not installed");
  rg_ctx *ctx = th_ctx(1);
  double t0 = now_ms();
  rg_dataset *train = rg_dataset_load_mnist(ctx, NULL, true);
  double t1 = now_ms();
  cr_assert(train, "%s", rg_ctx_message(ctx));
  fprintf(stderr, "Fashion-MNIST train (60000 x 784, gzip) loaded in %.1f ms\n", t1 - t0);
  check_fashion(train, 60000);
  rg_dataset *test = rg_dataset_load_mnist(ctx, RG_DEFAULT_DATA_DIR, false);
  check_fashion(test, 10000);

  /* Standardized with the training statistics: mean 0 and std 1 there. */
  rg_standardizer st = rg_standardizer_fit(train);
  cr_assert(st.mean > 0.25f && st.mean < 0.32f && st.std > 0.3f && st.std < 0.4f, "%g %g",
            (double)st.mean, (double)st.std);
  rg_standardizer_apply(ctx, &st, train);
  rg_standardizer_apply(ctx, &st, test);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  double m, s;
  moments(train, &m, &s);
  cr_assert(fabs(m) < 1e-5 && fabs(s - 1) < 1e-5, "train mean %g std %g", m, s);
  rg_dataset_free(train);
  rg_dataset_free(test);
  rg_ctx_free(ctx);
}

Test(idx, fashion_mnist_plain_equals_gzip) {
  if (!have_fashion()) cr_skip_test("Fashion-MNIST is not installed");
  rg_ctx *ctx = th_ctx(1);
  tmp t = tmp_new();
  static const char *const names[] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 2; i++) { /* gunzip into the temporary directory */
    char src[256];
    snprintf(src, sizeof src, "%s/%s.gz", RG_DEFAULT_DATA_DIR, names[i]);
    gzFile f = gzopen(src, "rb");
    static uint8_t buf[8 << 20];
    int len = gzread(f, buf, sizeof buf);
    gzclose(f);
    cr_assert(len > 0);
    write_bytes(tmp_path(&t, names[i]), false, buf, (size_t)len);
  }
  rg_dataset *plain = rg_dataset_load_mnist(ctx, t.dir, false);
  rg_dataset *gz = rg_dataset_load_mnist(ctx, NULL, false);
  cr_assert(plain && gz, "%s", rg_ctx_message(ctx));
  assert_same(plain, gz);
  rg_dataset_free(plain);
  rg_dataset_free(gz);
  tmp_free(&t);
  rg_ctx_free(ctx);
}

/* ----------------------------------------------------------- synthetic IDX */

Test(idx, synthetic_plain_and_gzip_identical) {
  rg_ctx *ctx = th_ctx(1);
  tmp t = tmp_new();
  idx_bytes img = synth_images(), lab = synth_labels(SN);
  write_idx(tmp_path(&t, "img"), false, &img);
  write_idx(tmp_path(&t, "lab"), false, &lab);
  write_idx(tmp_path(&t, "img.gz"), true, &img);
  write_idx(tmp_path(&t, "lab.gz"), true, &lab);
  rg_dataset *a = rg_dataset_load_idx(ctx, tmp_path(&t, "img"), tmp_path(&t, "lab"));
  rg_dataset *b = rg_dataset_load_idx(ctx, tmp_path(&t, "img.gz"), tmp_path(&t, "lab.gz"));
  cr_assert(a, "%s", rg_ctx_message(ctx));
  assert_same(a, b);
  cr_assert(a->n == SN && a->features == SR * SC && a->rows == SR && a->cols == SC &&
            a->classes == 5);
  for (int i = 0; i < SN; i++) {
    cr_assert_eq(a->y[i], i % 5);
    for (int j = 0; j < SR * SC; j++)
      cr_assert_eq(a->x[i * SR * SC + j], (float)((7 * i + 3 * j) % 256) / 255.0f);
  }
  /* load_mnist finds a mix of plain and .gz names. */
  rename(tmp_path(&t, "img"), tmp_path(&t, "train-images-idx3-ubyte"));
  rename(tmp_path(&t, "lab.gz"), tmp_path(&t, "train-labels-idx1-ubyte.gz"));
  rg_dataset *c = rg_dataset_load_mnist(ctx, t.dir, true);
  assert_same(a, c);
  cr_assert_null(rg_dataset_load_mnist(ctx, t.dir, false));
  expect_error(ctx, RG_EIO, "t10k-images-idx3-ubyte: cannot open: No such file", t.dir);
  rg_dataset_free(a);
  rg_dataset_free(b);
  rg_dataset_free(c);
  tmp_free(&t);
  rg_ctx_free(ctx);
}

/* One bad file: how the images and labels are written, the names given to
 * the loader (NULL: "img" and "lab"), and what must come out. */
typedef struct bad_file {
  const char *what;
  void (*make)(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz);
  const char *img_as, *lab_as;
  rg_status code;
  bool bad_labels;  /* the message names the labels file, else the images */
  const char *text; /* and holds this phrase */
} bad_file;

static void bad_magic(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)lab, (void)gz;
  img->buf[2] = 0x09;
}
static void labels_as_images(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)gz;
  *img = *lab;
}
static void truncated(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)lab, (void)gz;
  img->len -= 10;
}
static void truncated_gz(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  truncated(t, img, lab, gz);
  *gz = true;
}
static void truncated_header(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)img, (void)gz;
  lab->len = 6;
}
static void empty(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)lab, (void)gz;
  img->len = 0;
}
static void trailing(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)img, (void)gz;
  lab->len += 3;
}
static void trailing_gz(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  trailing(t, img, lab, gz);
  *gz = true;
}
static void zero_dim(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)lab, (void)gz;
  img->buf[11] = 0;
}
static void count_mismatch(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)img, (void)gz;
  *lab = synth_labels(SN - 1);
}
static void as_is(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)t, (void)img, (void)lab, (void)gz;
}
static void directory(tmp *t, idx_bytes *img, idx_bytes *lab, bool *gz) {
  (void)img, (void)lab, (void)gz;
  mkdir(tmp_path(t, "dir"), 0700);
}

static const bad_file bad_files[] = {
    {"bad magic", bad_magic, 0, 0, RG_EFORMAT, false, "magic is 0x00000903, expected 0x00000803"},
    {"labels as images", labels_as_images, 0, 0, RG_EFORMAT, false, "magic is 0x00000801"},
    {"truncated", truncated, 0, 0, RG_EFORMAT, false,
     "header says 50 images of 4x3 but the file holds 590 bytes of pixel data"},
    {"truncated gz", truncated_gz, 0, 0, RG_EFORMAT, false, "holds 590 bytes of pixel data"},
    {"truncated header", truncated_header, 0, 0, RG_EFORMAT, true, "inside the 8-byte header"},
    {"empty", empty, 0, 0, RG_EFORMAT, false, "ends after 0 bytes"},
    {"trailing", trailing, 0, 0, RG_EFORMAT, true, "holds 53 bytes of label data (trailing bytes)"},
    {"trailing gz", trailing_gz, 0, 0, RG_EFORMAT, true, "holds 53 bytes of label data"},
    {"zero dim", zero_dim, 0, 0, RG_EFORMAT, false, "dimension 1 is 0"},
    {"count mismatch", count_mismatch, 0, 0, RG_EFORMAT, true, "holds 50 images but"},
    {"missing", as_is, 0, "nothere", RG_EIO, true, "\": No such file or directory"},
    {"directory", directory, "dir", 0, RG_EIO, false, "is a directory, expected a regular file"},
};

Test(idx, bad_files_give_documented_errors) {
  rg_ctx *ctx = th_ctx(1);
  const uint64_t held = rg_ctx_stats(ctx).heap_bytes;
  for (size_t c = 0; c < sizeof bad_files / sizeof bad_files[0]; c++) {
    const bad_file *bf = &bad_files[c];
    tmp t = tmp_new();
    idx_bytes img = synth_images(), lab = synth_labels(SN);
    bool gz = false;
    bf->make(&t, &img, &lab, &gz);
    write_idx(tmp_path(&t, "img"), gz, &img);
    write_idx(tmp_path(&t, "lab"), gz, &lab);
    char ipath[256], lpath[256];
    snprintf(ipath, sizeof ipath, "%s", tmp_path(&t, bf->img_as ? bf->img_as : "img"));
    snprintf(lpath, sizeof lpath, "%s", tmp_path(&t, bf->lab_as ? bf->lab_as : "lab"));
    cr_expect_null(rg_dataset_load_idx(ctx, ipath, lpath), "%s loaded", bf->what);
    cr_expect(strstr(rg_ctx_message(ctx), "rg_dataset_load_idx: "), "%s", rg_ctx_message(ctx));
    expect_error(ctx, bf->code, bf->text, bf->bad_labels ? lpath : ipath);
    cr_expect_eq(rg_ctx_stats(ctx).heap_bytes, held, "%s: scratch memory kept", bf->what);
    tmp_free(&t);
  }
  rg_ctx_free(ctx);
}

/* A FIFO given as a data file blocked in open() for ever; FIFOs, directories
 * and devices are refused at once, naming what they are (red-team issue 16,
 * item 2). */
Test(idx, fifos_directories_and_devices_are_refused, .timeout = 30) {
  rg_ctx *ctx = th_ctx(1);
  tmp t = tmp_new();
  idx_bytes lab = synth_labels(SN);
  write_idx(tmp_path(&t, "lab"), false, &lab);
  char fifo[384], labels[384];
  snprintf(fifo, sizeof fifo, "%s", tmp_path(&t, "fifo"));
  snprintf(labels, sizeof labels, "%s", tmp_path(&t, "lab"));
  cr_assert(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
  cr_assert_null(rg_dataset_load_idx(ctx, fifo, labels));
  expect_error(ctx, RG_EIO, "is a FIFO, expected a regular file", fifo);
  cr_assert_null(rg_dataset_load_idx(ctx, "/dev/null", labels));
  expect_error(ctx, RG_EIO, "is a character device, expected a regular file", "/dev/null");
  cr_assert_null(rg_dataset_load_idx(ctx, t.dir, labels));
  expect_error(ctx, RG_EIO, "is a directory, expected a regular file", t.dir);
  /* rg_dataset_load_mnist goes through the same check. */
  rename(fifo, tmp_path(&t, "train-images-idx3-ubyte"));
  rename(labels, tmp_path(&t, "train-labels-idx1-ubyte"));
  cr_assert_null(rg_dataset_load_mnist(ctx, t.dir, true));
  expect_error(ctx, RG_EIO, "is a FIFO, expected a regular file", "train-images-idx3-ubyte");
  tmp_free(&t);
  rg_ctx_free(ctx);
}

/* -------------------------------------------- lying headers, resources */

/* An IDX image file whose header claims n images of rows x cols and whose
 * payload is `bytes` bytes (zeros, or pseudo-random bytes zlib cannot
 * shrink), gzip-compressed, followed by `junk` (NULL: nothing) after the
 * gzip stream. */
static void write_lying_gz(const char *path, uint32_t n, uint32_t rows, uint32_t cols,
                           size_t bytes, bool random, const char *junk) {
  gzFile f = gzopen(path, "wb9");
  cr_assert(f);
  uint8_t head[16] = {0, 0, 0x08, 3};
  const uint32_t dims[3] = {n, rows, cols};
  for (int d = 0; d < 3; d++)
    for (int b = 0; b < 4; b++) head[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
  cr_assert(gzwrite(f, head, sizeof head) == (int)sizeof head);
  static uint8_t chunk[1 << 16];
  uint64_t x = 12345;
  for (size_t done = 0; done < bytes;) {
    size_t len = bytes - done < sizeof chunk ? bytes - done : sizeof chunk;
    for (size_t i = 0; i < len; i++) chunk[i] = random ? (uint8_t)(th_next(&x) >> 56) : 0;
    cr_assert(gzwrite(f, chunk, (unsigned)len) == (int)len);
    done += len;
  }
  cr_assert(gzclose(f) == Z_OK);
  if (junk) {
    FILE *a = fopen(path, "ab");
    cr_assert(a && fputs(junk, a) >= 0 && fclose(a) == 0);
  }
}

/* The most this process has had resident, in bytes. */
static int64_t peak_rss(void) {
  struct rusage ru;
  cr_assert(getrusage(RUSAGE_SELF, &ru) == 0);
  return (int64_t)ru.ru_maxrss * 1024;
}

/* A 100 KB gzip of 100 MB of zeros whose header claims 2^40 bytes (2^20
 * images of 1024 x 1024): the reader used to grow its buffer with the data
 * (to 128 MB) before it saw the stream end. No gzip stream of that size can
 * hold 2^40 bytes (deflate packs at most 1032 bytes in one), so the header
 * is refused before the payload is read (red-team issue 16, item 4). */
Test(idx, header_claiming_more_than_the_gzip_can_hold_fails_fast) {
  rg_ctx *ctx = th_ctx(1);
  tmp t = tmp_new();
  char img[384], lab[384];
  snprintf(img, sizeof img, "%s", tmp_path(&t, "img.gz"));
  snprintf(lab, sizeof lab, "%s", tmp_path(&t, "lab"));
  write_lying_gz(img, 1u << 20, 1024, 1024, 100u << 20, false, NULL);
  idx_bytes labels = synth_labels(SN);
  write_idx(lab, false, &labels);
  int64_t before = peak_rss();
  cr_assert_null(rg_dataset_load_idx(ctx, img, lab));
  int64_t grew = peak_rss() - before;
  expect_error(ctx, RG_EFORMAT,
               "the header claims 1099511627776 bytes of pixel data, more than a gzip file of",
               img);
  cr_assert_lt(grew, 32 << 20, "loading took %lld MB more memory", (long long)(grew >> 20));
  tmp_free(&t);
  rg_ctx_free(ctx);
}

/* A claim a gzip file could hold but the context's memory limit cannot:
 * RG_ENOMEM before the payload is read (it used to read it all). */
Test(idx, header_claiming_more_than_the_memory_limit_fails_fast) {
  rg_ctx *ctx = rg_ctx_new(&(rg_config){.mem_limit = 64 << 20});
  cr_assert_eq(rg_ctx_status(ctx), RG_OK);
  tmp t = tmp_new();
  char img[384], lab[384];
  snprintf(img, sizeof img, "%s", tmp_path(&t, "img.gz"));
  snprintf(lab, sizeof lab, "%s", tmp_path(&t, "lab"));
  /* 1 MB that does not compress, claiming 100 MB (1000 images of 100 KB). */
  write_lying_gz(img, 1000, 320, 320, 1u << 20, true, NULL);
  idx_bytes labels = synth_labels(SN);
  write_idx(lab, false, &labels);
  cr_assert_null(rg_dataset_load_idx(ctx, img, lab));
  expect_error(ctx, RG_ENOMEM, "the header claims 102400000 bytes of pixel data", "memory limit");
  /* Without a limit the claim is read and found short, with memory for
   * about what arrived. */
  rg_ctx *free_ctx = th_ctx(1);
  int64_t before = peak_rss();
  cr_assert_null(rg_dataset_load_idx(free_ctx, img, lab));
  int64_t grew = peak_rss() - before;
  expect_error(free_ctx, RG_EFORMAT, "but the file holds 1048576 bytes of pixel data", img);
  cr_assert_lt(grew, 16 << 20, "loading took %lld MB more memory", (long long)(grew >> 20));
  tmp_free(&t);
  rg_ctx_free(ctx);
  rg_ctx_free(free_ctx);
}

/* Bytes after a plain file's data are refused; bytes after the end of a
 * gzip stream were ignored (zlib skips them). Both are RG_EFORMAT now. */
Test(idx, bytes_after_the_gzip_stream_are_refused) {
  rg_ctx *ctx = th_ctx(1);
  tmp t = tmp_new();
  char img[384], lab[384];
  snprintf(img, sizeof img, "%s", tmp_path(&t, "img.gz"));
  snprintf(lab, sizeof lab, "%s", tmp_path(&t, "lab"));
  idx_bytes labels = synth_labels(20);
  write_idx(lab, false, &labels);
  write_lying_gz(img, 20, 4, 3, 240, true, "junk!");
  cr_assert_null(rg_dataset_load_idx(ctx, img, lab));
  expect_error(ctx, RG_EFORMAT, "5 bytes after the end of the gzip stream", img);
  /* A second gzip member is data, not junk (gzip -c a b > ab). */
  write_lying_gz(img, 20, 4, 3, 100, true, NULL);
  gzFile more = gzopen(tmp_path(&t, "more.gz"), "wb");
  static const uint8_t rest[140];
  cr_assert(more && gzwrite(more, rest, sizeof rest) == (int)sizeof rest && gzclose(more) == Z_OK);
  size_t n;
  uint8_t *second = read_bytes(tmp_path(&t, "more.gz"), &n);
  FILE *a = fopen(img, "ab");
  cr_assert(a && fwrite(second, 1, n, a) == n && fclose(a) == 0);
  free(second);
  rg_dataset *ds = rg_dataset_load_idx(ctx, img, lab);
  cr_assert(ds, "%s", rg_ctx_message(ctx));
  cr_assert_eq(ds->n, 20);
  rg_dataset_free(ds);
  tmp_free(&t);
  rg_ctx_free(ctx);
}

/* A context and a temporary directory with the paths of an IDX pair. */
typedef struct pair {
  rg_ctx *ctx;
  tmp t;
  char img[384], lab[384];
} pair;

static pair pair_new(const char *img, const char *lab) {
  pair p = {.ctx = th_ctx(1), .t = tmp_new()};
  snprintf(p.img, sizeof p.img, "%s", tmp_path(&p.t, img));
  snprintf(p.lab, sizeof p.lab, "%s", tmp_path(&p.t, lab));
  return p;
}

static void pair_free(pair *p) {
  tmp_free(&p->t);
  rg_ctx_free(p->ctx);
}

/* A plain file with any one header bit flipped fails with RG_EFORMAT. */
Test(idx, every_header_bit_flip_is_caught) {
  pair p = pair_new("img", "lab");
  rg_ctx *ctx = p.ctx;
  const char *ip = p.img, *lp = p.lab;
  for (int file = 0; file < 2; file++)
    for (int bit = 0; bit < (file ? 8 : 16) * 8; bit++) {
      idx_bytes img = synth_images(), lab = synth_labels(SN);
      (file ? &lab : &img)->buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
      write_idx(ip, false, &img);
      write_idx(lp, false, &lab);
      cr_assert_null(rg_dataset_load_idx(ctx, ip, lp), "file %d bit %d", file, bit);
      expect_error(ctx, RG_EFORMAT, file ? lp : ip, NULL);
    }
  pair_free(&p);
}

/* Any one bit flipped anywhere in a gzip file either leaves the content
 * unchanged (gzip header fields zlib ignores) or gives RG_EFORMAT; a cut
 * anywhere gives RG_EFORMAT. */
Test(idx, gzip_corruption_is_caught) {
  pair p = pair_new("img.gz", "lab.gz");
  rg_ctx *ctx = p.ctx;
  const char *ip = p.img, *lp = p.lab;
  idx_bytes img = synth_images(), lab = synth_labels(SN);
  write_idx(ip, true, &img);
  write_idx(lp, true, &lab);
  rg_dataset *good = rg_dataset_load_idx(ctx, ip, lp);
  size_t len;
  uint8_t *gz = read_bytes(ip, &len);
  int failures = 0;
  for (size_t bit = 0; bit < len * 8; bit++) {
    gz[bit / 8] ^= (uint8_t)(1u << bit % 8);
    write_bytes(ip, false, gz, len);
    gz[bit / 8] ^= (uint8_t)(1u << bit % 8);
    rg_dataset *ds = rg_dataset_load_idx(ctx, ip, lp);
    if (ds) assert_same(good, ds);
    else failures++, expect_error(ctx, RG_EFORMAT, ip, NULL);
    rg_dataset_free(ds);
  }
  cr_assert_gt(failures, (int)(len * 8) * 3 / 4, "only %d of %zu flips caught", failures, len * 8);
  for (size_t cut = 0; cut < len; cut++) {
    write_bytes(ip, false, gz, cut);
    cr_assert_null(rg_dataset_load_idx(ctx, ip, lp), "cut at %zu", cut);
    expect_error(ctx, RG_EFORMAT, ip, NULL);
  }
  free(gz);
  rg_dataset_free(good);
  pair_free(&p);
}

/* ---------------------------------------------- permutations and splits */

Test(permutation, deterministic_unbiased_and_pinned) {
  enum { N = 1000 };
  int64_t a[N], b[N], c[N], d[N];
  rg_permutation(7, 3, N, a);
  rg_permutation(7, 3, N, b);
  rg_permutation(7, 4, N, c);
  rg_permutation(8, 3, N, d);
  cr_assert_eq(memcmp(a, b, sizeof a), 0);
  cr_assert_neq(memcmp(a, c, sizeof a), 0);
  cr_assert_neq(memcmp(a, d, sizeof a), 0);
  char seen[N] = {0};
  for (int i = 0; i < N; i++) {
    cr_assert(a[i] >= 0 && a[i] < N && !seen[a[i]]);
    seen[a[i]] = 1;
  }
  /* The same numbers on every machine: pinned. */
  int64_t p[8];
  rg_permutation(42, 0, 8, p);
  static const int64_t pinned[8] = {6, 7, 1, 3, 2, 5, 0, 4};
  cr_assert_eq(memcmp(p, pinned, sizeof p), 0, "got %lld %lld %lld %lld %lld %lld %lld %lld",
               (long long)p[0], (long long)p[1], (long long)p[2], (long long)p[3],
               (long long)p[4], (long long)p[5], (long long)p[6], (long long)p[7]);
  /* Each of the 6 orders of 3 items is about equally likely. */
  int count[3][3] = {{0}};
  for (uint64_t s = 0; s < 6000; s++) {
    int64_t q[3];
    rg_permutation(s, 0, 3, q);
    for (int i = 0; i < 3; i++) count[i][q[i]]++;
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      cr_assert(abs(count[i][j] - 2000) < 150, "%d at %d: %d times", j, i, count[i][j]);
}

/* n rows where row i holds i in every feature and label i. */
static rg_dataset *indexed(rg_ctx *ctx, int64_t n, int64_t f) {
  rg_dataset src = {.n = n, .features = f, .rows = 1, .cols = (int)f, .classes = (int)n,
                    .x = malloc((size_t)(n * f) * sizeof(float)), .y = malloc((size_t)n * 4)};
  for (int64_t i = 0; i < n; i++) {
    src.y[i] = (int32_t)i;
    for (int64_t j = 0; j < f; j++) src.x[i * f + j] = (float)i;
  }
  int64_t *all = malloc((size_t)n * sizeof(int64_t));
  for (int64_t i = 0; i < n; i++) all[i] = i;
  rg_dataset *ds = rg_dataset_subset(ctx, &src, all, n);
  free(all);
  free(src.x);
  free(src.y);
  cr_assert(ds, "%s", rg_ctx_message(ctx));
  return ds;
}

/* Rows intact (x matches y) and each label of 0..n-1 counted into seen. */
static void tally(const rg_dataset *ds, int *seen) {
  for (int64_t i = 0; i < ds->n; i++) {
    cr_assert_eq(ds->x[i * ds->features], (float)ds->y[i]);
    seen[ds->y[i]]++;
  }
}

Test(split, sizes_partition_and_determinism) {
  rg_ctx *ctx = th_ctx(1);
  rg_dataset *ds = indexed(ctx, 1000, 3), *tr, *va, *tr2, *va2;
  cr_assert_eq(rg_dataset_split(ctx, ds, 0.2, 5, &tr, &va), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert(tr->n == 800 && va->n == 200 && tr->classes == 1000 && va->features == 3);
  int seen[1000] = {0};
  tally(tr, seen);
  tally(va, seen);
  for (int i = 0; i < 1000; i++) cr_assert_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
  cr_assert_eq(rg_dataset_split(ctx, ds, 0.2, 5, &tr2, &va2), RG_OK);
  assert_same(va, va2);
  rg_dataset_free(tr2);
  rg_dataset_free(va2);
  cr_assert_eq(rg_dataset_split(ctx, ds, 0.2, 6, &tr2, &va2), RG_OK);
  cr_assert_neq(memcmp(va->y, va2->y, 200 * sizeof(int32_t)), 0, "another seed, another split");
  rg_dataset_free(tr2);
  rg_dataset_free(va2);
  cr_assert_eq(rg_dataset_split(ctx, ds, 0.0, 5, &tr2, &va2), RG_OK);
  cr_assert(tr2->n == 1000 && va2->n == 0);
  rg_dataset_free(tr2);
  rg_dataset_free(va2);
  rg_dataset *ten = indexed(ctx, 10, 1);
  cr_assert_eq(rg_dataset_split(ctx, ten, 0.25, 1, &tr2, &va2), RG_OK);
  cr_assert(tr2->n == 7 && va2->n == 3, "round(2.5) = 3 rows to validation");
  rg_dataset_free(tr2);
  rg_dataset_free(va2);
  static const double bad[] = {1.0, -0.1, NAN};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(rg_dataset_split(ctx, ds, bad[i], 1, &tr2, &va2), RG_EINVAL);
    cr_assert(tr2 == NULL && va2 == NULL);
    expect_error(ctx, RG_EINVAL, "rg_dataset_split: val_fraction is", NULL);
  }
  rg_dataset *one = indexed(ctx, 1, 1);
  cr_assert_eq(rg_dataset_split(ctx, one, 0.6, 1, &tr2, &va2), RG_EINVAL);
  expect_error(ctx, RG_EINVAL, "leaves no training rows", NULL);
  rg_dataset_free(one);
  rg_dataset_free(ten);
  rg_dataset_free(tr);
  rg_dataset_free(va);
  rg_dataset_free(ds);
  rg_ctx_free(ctx);
}

Test(kfold, every_row_validates_exactly_once) {
  rg_ctx *ctx = th_ctx(1);
  enum { N = 103, K = 5 };
  int val_count[N] = {0};
  for (int k = 0; k < K; k++) {
    int64_t tr[N], va[N], ntr, nva;
    cr_assert_eq(rg_kfold(ctx, N, K, k, 9, tr, &ntr, va, &nva), RG_OK, "%s", rg_ctx_message(ctx));
    cr_assert_eq(nva, k < N % K ? 21 : 20, "fold %d has %lld", k, (long long)nva);
    cr_assert_eq(ntr + nva, N);
    int seen[N] = {0};
    for (int64_t i = 0; i < ntr; i++) seen[tr[i]]++;
    for (int64_t i = 0; i < nva; i++) seen[va[i]]++, val_count[va[i]]++;
    for (int i = 0; i < N; i++)
      cr_assert_eq(seen[i], 1, "fold %d: row %d seen %d times", k, i, seen[i]);
  }
  for (int i = 0; i < N; i++)
    cr_assert_eq(val_count[i], 1, "row %d validated %d times", i, val_count[i]);
  int64_t tr[N], va[N], ntr, nva;
  cr_assert_eq(rg_kfold(ctx, N, 1, 0, 9, tr, &ntr, va, &nva), RG_EINVAL);
  expect_error(ctx, RG_EINVAL, "rg_kfold: n is 103, folds 1 and k 0", NULL);
  cr_assert_eq(rg_kfold(ctx, N, K, K, 9, tr, &ntr, va, &nva), RG_EINVAL);
  expect_error(ctx, RG_EINVAL, "k 5", NULL);
  cr_assert_eq(rg_kfold(ctx, 3, K, 0, 9, tr, &ntr, va, &nva), RG_EINVAL);
  expect_error(ctx, RG_EINVAL, "folds <= n", NULL);
  cr_assert_eq(rg_kfold(ctx, N, K, 0, 9, tr, NULL, va, &nva), RG_EINVAL);
  expect_error(ctx, RG_EINVAL, "is NULL", NULL);
  rg_ctx_free(ctx);
}

/* ---------------------------------------------------------- standardizer */


static rg_dataset *uniform(rg_ctx *ctx, int64_t n, float lo, float hi, uint64_t seed) {
  rg_dataset *ds = indexed(ctx, n, 50);
  th_fill(ds->x, n * 50, seed, lo, hi);
  return ds;
}

Test(standardizer, fitted_on_train_applied_unchanged) {
  rg_ctx *ctx = th_ctx(1);
  rg_dataset *train = uniform(ctx, 2000, 2.0f, 5.0f, 1), *val = uniform(ctx, 500, 3.0f, 7.0f, 2);
  rg_dataset *copy = rg_dataset_subset(ctx, val, (int64_t[]){0}, 1);
  double m, s;
  moments(train, &m, &s);
  rg_standardizer st = rg_standardizer_fit(train);
  cr_assert(fabs(st.mean - m) < 1e-5 * m && fabs(st.std - s) < 1e-5 * s, "%g %g vs %g %g",
            (double)st.mean, (double)st.std, m, s);
  const rg_standardizer before = st;
  rg_standardizer_apply(ctx, &st, train);
  rg_standardizer_apply(ctx, &st, val);
  cr_assert_eq(rg_ctx_status(ctx), RG_OK, "%s", rg_ctx_message(ctx));
  cr_assert_eq(memcmp(&st, &before, sizeof st), 0);
  moments(train, &m, &s);
  cr_assert(fabs(m) < 1e-5 && fabs(s - 1) < 1e-5, "train mean %g std %g", m, s);
  /* val used the training statistics, not its own. */
  for (int j = 0; j < 50; j++) {
    double want = ((double)copy->x[j] - st.mean) / st.std;
    cr_assert(fabs(val->x[j] - want) < 1e-5, "%g vs %g", (double)val->x[j], want);
  }
  moments(val, &m, &s);
  cr_assert(fabs(m - (5.0 - 3.5) / 0.866) < 0.05, "val mean %g", m);
  /* Every ISA gives the same bits. */
  rg_dataset *again = uniform(ctx, 500, 3.0f, 7.0f, 2);
  cr_assert_eq(rg_set_isa(ctx, "scalar"), RG_OK);
  rg_standardizer_apply(ctx, &st, again);
  assert_same(val, again);
  /* A constant set has its std floored; a bad standardizer is refused. */
  th_fill(again->x, again->n * 50, 3, 0.5f, 0.5f);
  cr_assert_eq(rg_standardizer_fit(again).std, 1e-6f);
  rg_standardizer_apply(ctx, &(rg_standardizer){0.0f, NAN}, again);
  expect_error(ctx, RG_EINVAL, "rg_standardizer_apply: st is set (mean 0, std nan)", NULL);
  rg_dataset_free(again);
  rg_dataset_free(copy);
  rg_dataset_free(train);
  rg_dataset_free(val);
  rg_ctx_free(ctx);
}

/* --------------------------------------------------------------- batcher */

/* One epoch: checks every row comes once, with its x; writes the order. */
static void epoch(rg_batcher *b, int64_t n, int64_t batch, int64_t *order) {
  const float *x;
  const int32_t *y;
  int64_t got = 0, m;
  char seen[256] = {0};
  while ((m = rg_batcher_next(b, &x, &y)) > 0) {
    cr_assert_eq(m, n - got < batch ? n - got : batch);
    for (int64_t i = 0; i < m; i++) {
      cr_assert(!seen[y[i]], "row %d twice", y[i]);
      cr_assert_eq(x[i * 3 + 2], (float)y[i]);
      seen[y[i]] = 1;
      order[got + i] = y[i];
    }
    got += m;
  }
  cr_assert_eq(got, n);
}

Test(batcher, each_row_once_per_epoch_reshuffled_deterministic_no_alloc) {
  rg_ctx *ctx = th_ctx(1);
  enum { N = 103, B = 10 };
  rg_dataset *ds = indexed(ctx, N, 3);
  uint64_t held = rg_ctx_stats(ctx).heap_bytes;
  rg_batcher *b = rg_batcher_new(ctx, ds, B, true, 11);
  rg_batcher *same = rg_batcher_new(ctx, ds, B, true, 11);
  int64_t order[4][N], other[N], perm[N];
  uint64_t allocs = rg_ctx_stats(ctx).heap_allocs;
  for (int e = 0; e < 4; e++) {
    cr_assert_eq(rg_batcher_epoch(b), e);
    epoch(b, N, B, order[e]);
    epoch(same, N, B, other);
    cr_assert_eq(memcmp(order[e], other, sizeof other), 0, "same seed, same order");
    rg_permutation(11, (uint64_t)e, N, perm);
    cr_assert_eq(memcmp(order[e], perm, sizeof perm), 0, "epoch %d is permutation (11, %d)", e, e);
    if (e) cr_assert_neq(memcmp(order[e], order[e - 1], sizeof other), 0);
  }
  cr_assert_eq(rg_ctx_stats(ctx).heap_allocs, allocs, "iterating allocated");
  rg_batcher_free(same);
  same = rg_batcher_new(ctx, ds, B, true, 12);
  epoch(same, N, B, other);
  cr_assert_neq(memcmp(order[0], other, sizeof other), 0, "another seed, another order");
  rg_batcher_free(same);
  same = rg_batcher_new(ctx, ds, 1000, false, 11);
  epoch(same, N, 1000, other);
  for (int i = 0; i < N; i++) cr_assert_eq(other[i], i, "unshuffled order");
  rg_batcher_free(same);
  rg_batcher_free(b);
  cr_assert_eq(rg_ctx_stats(ctx).heap_bytes, held, "the batchers' memory is all returned");
  cr_assert_null(rg_batcher_new(ctx, ds, 0, true, 1));
  expect_error(ctx, RG_EINVAL, "rg_batcher_new: batch is 0", NULL);
  rg_dataset_free(ds);
  rg_ctx_free(ctx);
}

/* ------------------------------------------------------------- bad input */

Test(bad_input, data_functions) {
  rg_ctx *ctx = th_ctx(1);
  rg_dataset *ds = indexed(ctx, 5, 2);
  cr_assert_null(rg_dataset_load_idx(NULL, "a", "b"));
  cr_assert_null(rg_dataset_load_idx(ctx, NULL, "b"));
  expect_error(ctx, RG_EINVAL, "rg_dataset_load_idx: images_path is NULL", NULL);
  cr_assert_null(rg_dataset_subset(ctx, ds, (int64_t[]){1, 5}, 2));
  expect_error(ctx, RG_ERANGE, "rg_dataset_subset: rows[1] is 5, expected 0 <= row < 5", NULL);
  cr_assert_null(rg_dataset_subset(ctx, NULL, (int64_t[]){0}, 1));
  expect_error(ctx, RG_EINVAL, "rg_dataset_subset: ds is NULL", NULL);
  rg_dataset broken = *ds;
  broken.x = NULL;
  cr_assert_null(rg_batcher_new(ctx, &broken, 2, false, 0));
  expect_error(ctx, RG_EINVAL, "rg_batcher_new: ds has n 5, features 2", "x NULL");
  /* A pending error makes every call fail without touching anything. */
  cr_assert_null(rg_dataset_subset(ctx, ds, (int64_t[]){9}, 1));
  cr_assert_null(rg_dataset_load_mnist(ctx, "/nonexistent", true));
  cr_assert_null(rg_batcher_new(ctx, ds, 2, false, 0));
  expect_error(ctx, RG_ERANGE, "rows[0] is 9", NULL);
  rg_permutation(1, 1, 0, NULL); /* nothing to do, no crash */
  cr_assert_eq(rg_batcher_next(NULL, NULL, NULL), -1);
  cr_assert_eq(rg_standardizer_fit(NULL).std, 1.0f);
  rg_dataset_free(NULL);
  rg_batcher_free(NULL);
  rg_dataset_free(ds);
  rg_ctx_free(ctx);
}
