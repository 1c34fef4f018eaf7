/* Describing an MLP as text and reading it back (model_spec.h). */
#include "model_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const activations[] = {
    [RG_RELU] = "relu", [RG_LEAKY_RELU] = "leaky_relu", [RG_TANH] = "tanh",
    [RG_SIGMOID] = "sigmoid"};

const char *model_activation_name(rg_nonlinearity a) {
  return a >= RG_RELU && a <= RG_SIGMOID ? activations[a] : "?";
}

int model_activation_parse(const char *name) {
  for (int a = RG_RELU; a <= RG_SIGMOID; a++)
    if (strcmp(name, activations[a]) == 0) return a;
  return -1;
}

void model_spec_format(const rg_mlp_config *m, char *buf, size_t size) {
  int at = snprintf(buf, size, "mlp in=%d out=%d hidden=", m->in, m->out);
  for (int i = 0; i < m->hidden && at > 0 && (size_t)at < size; i++)
    at += snprintf(buf + at, size - (size_t)at, i ? ",%d" : "%d", m->widths[i]);
  if (at > 0 && (size_t)at < size)
    snprintf(buf + at, size - (size_t)at, " activation=%s leaky_slope=%.9g batch_norm=%d "
             "dropout=%.9g", model_activation_name(m->activation), (double)m->leaky_slope,
             m->batch_norm, (double)m->dropout);
}

static bool integer(const char *v, long lo, long hi, int *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi) return false;
  *out = (int)x;
  return true;
}

static bool real(const char *v, float *out) {
  char *end;
  errno = 0;
  float x = strtof(v, &end);
  if (end == v || *end || errno || !isfinite(x)) return false;
  *out = x;
  return true;
}

static bool widths(char *v, rg_mlp_config *m) {
  m->hidden = 0;
  for (char *tok = strtok(v, ","); tok; tok = strtok(NULL, ","))
    if (m->hidden == RG_MLP_MAX_LAYERS || !integer(tok, 1, 1 << 24, &m->widths[m->hidden++]))
      return false;
  return true;
}

/* One "key=value" field into m. */
static bool field(char *key, char *v, rg_mlp_config *m, unsigned *seen) {
  static const char *const keys[] = {"in", "out", "hidden", "activation", "leaky_slope",
                                     "batch_norm", "dropout"};
  int k = 0;
  while (k < 7 && strcmp(key, keys[k]) != 0) k++;
  if (k == 7 || (*seen & (1u << k))) return false;
  *seen |= 1u << k;
  int bn, act;
  switch (k) {
    case 0: return integer(v, 1, 1 << 24, &m->in);
    case 1: return integer(v, 1, 1 << 24, &m->out);
    case 2: return widths(v, m);
    case 3: return (act = model_activation_parse(v)) >= 0 && (m->activation = act, true);
    case 4: return real(v, &m->leaky_slope);
    case 5: return integer(v, 0, 1, &bn) && (m->batch_norm = bn, true);
    default: return real(v, &m->dropout);
  }
}

bool model_spec_parse(const char *text, rg_mlp_config *m, char *why, size_t size) {
  char copy[MODEL_SPEC_MAX];
  *m = (rg_mlp_config){0};
  if (strlen(text) >= sizeof copy || strncmp(text, "mlp ", 4) != 0) {
    snprintf(why, size, "the model description \"%.60s\" is not an MLP's", text);
    return false;
  }
  strcpy(copy, text + 4);
  unsigned seen = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) {
      snprintf(why, size, "the model description has \"%.60s\", expected key=value", tok);
      return false;
    }
    *eq = '\0';
    if (!field(tok, eq + 1, m, &seen)) {
      snprintf(why, size, "the model description's \"%.40s\" is unknown, repeated or has a bad "
               "value \"%.40s\"", tok, eq + 1);
      return false;
    }
  }
  if (seen != 0x7fu) {
    snprintf(why, size, "the model description lacks a field (in, out, hidden, activation, "
             "leaky_slope, batch_norm, dropout)");
    return false;
  }
  return true;
}
