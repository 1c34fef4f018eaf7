#!/bin/sh
# `regrad train --dist` under mpiexec with 2 ranks. Arguments: mpiexec, the
# regrad binary and the source directory. Ranks started with different settings refuse to start and
# name the setting; matching ranks train with every clipping mode, --log and
# alerts, and the deterministic run equals one process with as many shards.
set -u
mpiexec=$1 regrad=$2 src=$3
. "$src/tests/cli_lib.sh"
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "Fashion-MNIST is not installed: skipping"
  exit 77
fi
mpi="$mpiexec --allow-run-as-root --oversubscribe -np 2"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
small="--layers 16 --train-limit 600 --threads 1 --quiet --batch 64"

# Different --epochs on each rank: refused, naming the setting, no hang.
$mpi sh -c "exec $regrad train --dist $small --epochs \$((1 + OMPI_COMM_WORLD_RANK))" \
  >"$work/out" 2>"$work/err"
rc=$?
[ $rc != 0 ] && grep -q 'this rank.s setting "epochs=2" differs from rank 0.s "epochs=1"' "$work/err" ||
  fail "mismatched --epochs: exit $rc, $(cat "$work/err")"

# Different --dropout: refused as well.
$mpi sh -c "exec $regrad train --dist $small --dropout 0.\$OMPI_COMM_WORLD_RANK" \
  >"$work/out" 2>"$work/err"
[ $? != 0 ] && grep -q '"dropout=0.100000001"' "$work/err" || fail "mismatched --dropout: $(cat "$work/err")"

# Matching ranks, EMA clipping, a log on rank 0: the same test accuracy as
# one process computing the same 2 shards.
flags="$small --epochs 2 --clip ema --ema-warmup 3 --z-threshold 3 --save $work/d.ckpt"
$mpi "$regrad" train --dist $flags --log "$work/log.csv" >"$work/out2" 2>"$work/err"
[ $? = 0 ] || fail "2 ranks: $(cat "$work/err")"
"$regrad" train --dist --grad-shards 2 $flags --save "$work/one.ckpt" >"$work/out1" 2>"$work/err"
[ $? = 0 ] || fail "1 process: $(cat "$work/err")"
a2=$(sed -n 's/^test accuracy //p' "$work/out2")
a1=$(sed -n 's/^test accuracy //p' "$work/out1")
[ -n "$a1" ] && [ "$a1" = "$a2" ] || fail "2 ranks give '$a2', one process '$a1'"
cmp -s "$work/d.ckpt" "$work/one.ckpt" || fail "the 2-rank checkpoint differs from one process's"
[ -s "$work/log.csv" ] || fail "--log under --dist wrote nothing"

[ $failures = 0 ] && echo "all --dist CLI checks passed"
[ $failures = 0 ]
