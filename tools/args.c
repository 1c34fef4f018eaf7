/* The table-driven flag parser (see args.h). */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HELP_COLUMN 28

static const arg_spec *find_spec(const arg_command *cmd, const char *name, size_t len) {
  for (int i = 0; i < cmd->n_specs; i++)
    if (strlen(cmd->specs[i].name) == len && strncmp(cmd->specs[i].name, name, len) == 0)
      return &cmd->specs[i];
  return NULL;
}

const char *args_choice_name(const arg_choice *choices, int value) {
  for (int i = 0; choices && choices[i].name; i++)
    if (choices[i].value == value) return choices[i].name;
  return "?";
}

/* A bound for messages: "inf" for the "no limit" sentinels. */
static void bound_text(char *buf, size_t size, double v) {
  if (fabs(v) >= 1e18)
    snprintf(buf, size, "%sinf", v < 0 ? "-" : "");
  else
    snprintf(buf, size, "%.15g", v);
}

static void choices_text(const arg_choice *choices, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; choices[i].name && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "|" : "", choices[i].name);
}

/* What a valid value looks like, for error messages. */
static void expected_form(const arg_spec *s, char *buf, size_t size) {
  char lo[32], hi[32], names[256];
  bound_text(lo, sizeof lo, s->min);
  bound_text(hi, sizeof hi, s->max);
  switch (s->kind) {
    case ARG_BOOL: snprintf(buf, size, "true or false"); break;
    case ARG_INT:
    case ARG_INT64: snprintf(buf, size, "an integer in [%s, %s]", lo, hi); break;
    case ARG_UINT64: snprintf(buf, size, "a non-negative integer"); break;
    case ARG_FLOAT:
    case ARG_DOUBLE: snprintf(buf, size, "a number in [%s, %s]", lo, hi); break;
    case ARG_STRING: snprintf(buf, size, "a non-empty string"); break;
    case ARG_CHOICE:
      choices_text(s->choices, names, sizeof names);
      snprintf(buf, size, "one of %s", names);
      break;
    case ARG_LIST:
      snprintf(buf, size, "comma-separated integers in [%s, %s] (at most %d), or none", lo, hi,
               ARG_LIST_MAX);
      break;
    case ARG_BYTES:
      snprintf(buf, size, "a byte count (digits, optionally with k, M, G or T), or 0 for none");
      break;
  }
}

/* Numbers are plain decimal: strtoll and strtod alone would also take
 * leading spaces, and strtod hexadecimal ("0x10"), "inf" and "nan". */
static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Digits after an optional sign (none for unsigned kinds), up to end (or
 * the end of the string when end is NULL). */
static bool integer_syntax(const char *t, const char *end, bool sign) {
  if (sign && (*t == '-' || *t == '+')) t++;
  const char *first = t;
  while (t != end && digit(*t)) t++;
  return t != first && (end ? t == end : *t == '\0');
}

/* [sign] digits [. digits] [e|E [sign] digits], at least one digit before
 * the exponent. */
static bool real_syntax(const char *t) {
  if (*t == '-' || *t == '+') t++;
  int digits = 0;
  for (; digit(*t); t++) digits++;
  if (*t == '.')
    for (t++; digit(*t); t++) digits++;
  if (!digits) return false;
  if (*t == 'e' || *t == 'E') {
    t++;
    if (*t == '-' || *t == '+') t++;
    if (!digit(*t)) return false;
    while (digit(*t)) t++;
  }
  return *t == '\0';
}

static bool parse_integer(const char *text, const arg_spec *s, int64_t *out) {
  if (!integer_syntax(text, NULL, true)) return false;
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end || errno == ERANGE) return false;
  *out = v;
  return (double)v >= s->min && (double)v <= s->max;
}

static bool parse_real(const char *text, const arg_spec *s, double *out) {
  if (!real_syntax(text)) return false;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end || errno == ERANGE || isnan(v)) return false;
  *out = v;
  return v >= s->min && v <= s->max;
}

static bool parse_bool(const char *text, bool *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, yes[i]) == 0) return *out = true, true;
    if (strcmp(text, no[i]) == 0) return *out = false, true;
  }
  return false;
}

static bool parse_list(const char *text, const arg_spec *s, arg_list *out) {
  arg_list l = {0};
  if (*text && strcmp(text, "none") != 0) {
    for (const char *at = text;; at++) {
      const char *comma = strchr(at, ',');
      if (!integer_syntax(at, comma ? comma : at + strlen(at), true)) return false;
      char *end;
      errno = 0;
      long long v = strtoll(at, &end, 10);
      if (end == at || errno == ERANGE || l.n == ARG_LIST_MAX || (double)v < s->min ||
          (double)v > s->max)
        return false;
      l.v[l.n++] = v;
      if (*end == '\0') break;
      if (*end != ',') return false;
      at = end;
    }
  }
  *out = l;
  return true;
}

/* "1073741824", "512M", "2G"; 0 (no limit) is stored as UINT64_MAX. */
static bool parse_bytes(const char *text, uint64_t *out) {
  uint64_t v = 0;
  const char *p = text;
  for (; *p >= '0' && *p <= '9'; p++)
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
      return false;
  if (p == text) return false;
  static const char units[] = "kmgt";
  const char *u = *p ? strchr(units, *p | 0x20) : NULL;
  if (*p && (!u || p[1])) return false;
  for (int shift = u ? 10 * (int)(u - units + 1) : 0; shift > 0; shift -= 10)
    if (__builtin_mul_overflow(v, 1024u, &v)) return false;
  *out = v ? v : UINT64_MAX;
  return true;
}

/* Choice names in any case ("AVX2", "Scalar"). */
static bool parse_choice(const char *text, const arg_spec *s, int *out) {
  for (int i = 0; s->choices[i].name; i++)
    if (strcasecmp(text, s->choices[i].name) == 0) return *out = s->choices[i].value, true;
  return false;
}

/* Stores text into s->dest; false when it does not parse or is out of range. */
static bool store(const arg_spec *s, const char *text) {
  int64_t i;
  double d;
  switch (s->kind) {
    case ARG_BOOL: return parse_bool(text, s->dest);
    case ARG_INT: return parse_integer(text, s, &i) && (*(int *)s->dest = (int)i, true);
    case ARG_INT64: return parse_integer(text, s, &i) && (*(int64_t *)s->dest = i, true);
    case ARG_UINT64: {
      if (!integer_syntax(text, NULL, false)) return false;
      char *end;
      errno = 0;
      unsigned long long u = strtoull(text, &end, 10);
      if (end == text || *end || errno == ERANGE) return false;
      *(uint64_t *)s->dest = u;
      return true;
    }
    case ARG_FLOAT: return parse_real(text, s, &d) && (*(float *)s->dest = (float)d, true);
    case ARG_DOUBLE: return parse_real(text, s, &d) && (*(double *)s->dest = d, true);
    case ARG_STRING: return *text && (*(const char **)s->dest = text, true);
    case ARG_CHOICE: return parse_choice(text, s, s->dest);
    case ARG_LIST: return parse_list(text, s, s->dest);
    case ARG_BYTES: return parse_bytes(text, s->dest);
  }
  return false;
}

static void vcomplain(const char *command, const char *fmt, va_list ap) {
  fprintf(stderr, "%s: ", command);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void args_complain(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vcomplain(command, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static arg_result fail(const arg_command *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vcomplain(cmd->name, fmt, ap);
  va_end(ap);
  fprintf(stderr, "see `%s --help`\n", cmd->name);
  return ARGS_ERROR;
}

arg_result args_parse(const arg_command *cmd, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      args_usage(cmd, stdout);
      return ARGS_HELP;
    }
    if (strncmp(arg, "--", 2) != 0 || !arg[2])
      return fail(cmd, "unexpected argument \"%s\" (flags start with --)", arg);
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const arg_spec *s = find_spec(cmd, name, len);
    const char *value = eq ? eq + 1 : NULL;
    if (!s && len > 3 && strncmp(name, "no-", 3) == 0) { /* --no-flag of a boolean */
      s = find_spec(cmd, name + 3, len - 3);
      if (s && (s->kind != ARG_BOOL || eq))
        return fail(cmd, "--%.*s: only a boolean flag takes the no- form, without a value",
                    (int)len, name);
      if (s) value = "false";
    }
    if (!s) return fail(cmd, "unknown flag --%.*s", (int)len, name);
    if (!value && s->kind == ARG_BOOL) value = "true";
    if (!value && i + 1 < argc) value = argv[++i];
    char form[320];
    expected_form(s, form, sizeof form);
    if (!value) return fail(cmd, "--%s needs a value: %s", s->name, form);
    if (!store(s, value)) return fail(cmd, "--%s: \"%s\" is not %s", s->name, value, form);
  }
  return ARGS_OK;
}

int args_exit_code(arg_result r) { return r == ARGS_ERROR ? 2 : 0; }

void args_value_text(const arg_spec *s, char *buf, size_t size) {
  buf[0] = '\0';
  switch (s->kind) {
    case ARG_BOOL: snprintf(buf, size, "%s", *(bool *)s->dest ? "true" : "false"); break;
    case ARG_INT: snprintf(buf, size, "%d", *(int *)s->dest); break;
    case ARG_INT64: snprintf(buf, size, "%lld", (long long)*(int64_t *)s->dest); break;
    case ARG_UINT64: snprintf(buf, size, "%llu", (unsigned long long)*(uint64_t *)s->dest); break;
    case ARG_FLOAT: snprintf(buf, size, "%.9g", (double)*(float *)s->dest); break;
    case ARG_DOUBLE: snprintf(buf, size, "%.17g", *(double *)s->dest); break;
    case ARG_STRING: {
      const char *v = *(const char **)s->dest;
      if (v) snprintf(buf, size, "%s", v);
      break;
    }
    case ARG_CHOICE:
      snprintf(buf, size, "%s", args_choice_name(s->choices, *(int *)s->dest));
      break;
    case ARG_BYTES: {
      uint64_t v = *(uint64_t *)s->dest;
      if (v == 0)
        snprintf(buf, size, "auto");
      else if (v == UINT64_MAX)
        snprintf(buf, size, "none");
      else
        snprintf(buf, size, "%llu", (unsigned long long)v);
      break;
    }
    case ARG_LIST: {
      const arg_list *l = s->dest;
      size_t used = 0;
      if (l->n == 0) snprintf(buf, size, "none");
      for (int i = 0; i < l->n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                 (long long)l->v[i]);
      break;
    }
  }
}

void args_usage(const arg_command *cmd, FILE *out) {
  fprintf(out, "usage: %s\n", cmd->synopsis);
  if (cmd->description) fprintf(out, "\n%s\n", cmd->description);
  if (cmd->n_specs) fputs("\nflags:\n", out);
  for (int i = 0; i < cmd->n_specs; i++) {
    const arg_spec *s = &cmd->specs[i];
    char value[256], def[256];
    if (s->kind == ARG_CHOICE && !s->value)
      choices_text(s->choices, value, sizeof value);
    else
      snprintf(value, sizeof value, "%s", s->value ? s->value : "");
    int width = fprintf(out, "  --%s%s%s", s->name, value[0] ? " " : "", value);
    if (width >= HELP_COLUMN) {
      fputc('\n', out);
      width = 0;
    }
    fprintf(out, "%*s%s", HELP_COLUMN - width, "", s->help);
    /* The default: the variable's value before parsing (a false boolean and
     * an unset string show none). */
    args_value_text(s, def, sizeof def);
    if (s->kind == ARG_BOOL) snprintf(def, sizeof def, "%s", *(bool *)s->dest ? "on" : "");
    if (s->kind == ARG_FLOAT) snprintf(def, sizeof def, "%g", (double)*(float *)s->dest);
    if (s->kind == ARG_DOUBLE) snprintf(def, sizeof def, "%g", *(double *)s->dest);
    fprintf(out, def[0] ? " (default %s)\n" : "\n", def);
  }
  fputs("  --help                    this text\n", out);
}
