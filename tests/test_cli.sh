#!/bin/sh
# The `regrad` command end to end. Arguments: the regrad binary and the source
# directory. The checks that train need Fashion-MNIST in its default place;
# without it they are skipped (exit 77) after the others pass.
set -u
regrad=$1 src=$2
. "$src/tests/cli_lib.sh"

# --- info: every slot of kernels.def is served by a body -------------------
run "$regrad" info --kernels
[ "$(status)" = 0 ] || fail "info --kernels exited $(status): $(cat "$work/err")"
slots=$(sed -n 's/^RG_KERNEL(\([a-z0-9_]*\),.*/\1/p' "$src/src/kernels.def")
[ -n "$slots" ] || fail "no slots found in kernels.def"
for slot in $slots; do
  grep -Eq "^  $slot +rg_${slot}__" "$work/out" || fail "info --kernels does not list slot $slot"
done
grep -q '^isa in force: ' "$work/out" || fail "info does not say which ISA is in force"
run env REGRAD_ISA=scalar "$regrad" info
grep -q '^isa in force: scalar (REGRAD_ISA)' "$work/out" || fail "info ignores REGRAD_ISA"

# --- bad command lines exit 2 and name what is wrong ------------------------
run "$regrad" train --no-such-flag
[ "$(status)" = 2 ] || fail "an unknown flag exited $(status), not 2"
grep -q 'regrad train: unknown flag --no-such-flag' "$work/err" || fail "unknown flag not named: $(head -1 "$work/err")"
grep -q '^usage: regrad train' "$work/err" || fail "no usage after a bad flag"
run "$regrad" train --lr=fast
[ "$(status)" = 2 ] || fail "a malformed value exited $(status), not 2"
grep -q -- '--lr: "fast" is not a number' "$work/err" || fail "bad value not explained: $(head -1 "$work/err")"
run "$regrad" train --epochs 0
[ "$(status)" = 2 ] || fail "an out-of-range value exited $(status), not 2"
run "$regrad" no-such-command
[ "$(status)" = 2 ] || fail "an unknown command exited $(status), not 2"

# --- --help on regrad and every subcommand ----------------------------------
run "$regrad" --help
[ "$(status)" = 0 ] && grep -q '^usage: regrad' "$work/out" || fail "regrad --help"
commands=$(sed -n 's/^  \([a-z]*\)  .*/\1/p' "$work/out")
[ -n "$commands" ] || fail "regrad --help lists no commands"
for cmd in $commands; do
  run "$regrad" "$cmd" --help
  [ "$(status)" = 0 ] && grep -q "^usage: regrad $cmd" "$work/out" || fail "regrad $cmd --help"
done

# --- the manual page names every flag of train and study -----------------
for cmd in train study eval; do
  for flag in $("$regrad" $cmd --help | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p'); do
    [ "$flag" = help ] && continue
    man_flag=$(printf '%s' "$flag" | sed 's/-/\\\\-/g')
    grep -q -- "\\\\-\\\\-$man_flag" "$src/docs/man/regrad.1" || fail "regrad.1 lacks --$flag of regrad $cmd"
  done
done

# --- training, checkpoints, evaluation --------------------------------------
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "Fashion-MNIST is not installed: skipping the training checks"
  [ $failures = 0 ] && exit 77
  exit 1
fi
small="--layers 64 --train-limit 3000 --threads 1"
run "$regrad" train $small --epochs 1 --save "$work/model.ckpt" --log "$work/log.csv"
[ "$(status)" = 0 ] || fail "train exited $(status): $(cat "$work/err")"
train_acc=$(sed -n 's/^test accuracy \([0-9.]*\).*/\1/p' "$work/out")
awk -v a="$train_acc" 'BEGIN { exit !(a > 0.6) }' || fail "test accuracy '$train_acc' is not above 0.6"
grep -q 'heap allocations after the first step' "$work/out" && fail "steps allocate: $(tail -1 "$work/out")"
grep -q '^epoch 1/1 .*val loss' "$work/err" || fail "no per-epoch line with the validation loss"

# eval needs nothing but the checkpoint (the model is described in it).
run "$regrad" eval --load "$work/model.ckpt"
[ "$(status)" = 0 ] || fail "eval exited $(status): $(cat "$work/err")"
eval_acc=$(sed -n 's/^test accuracy \([0-9.]*\).*/\1/p' "$work/out")
[ "$eval_acc" = "$train_acc" ] || fail "eval gives test accuracy '$eval_acc', train gave '$train_acc'"
run "$regrad" eval --load "$work/no-such.ckpt"
[ "$(status)" = 1 ] && grep -q 'no-such.ckpt' "$work/err" || fail "eval of a missing file: $(cat "$work/err")"

header=$(head -n 1 "$work/log.csv")
[ "$header" = "step,epoch,loss,lr,global_grad_norm,clip_scale,skipped,param,grad_norm,weight_norm,update_ratio,vanishing,exploding" ] ||
  fail "log header is '$header'"
awk -F, 'NR > 1 && (NF != 13 || $1 !~ /^[0-9]+$/ || $3 + 0 != $3 || $6 + 0 != $6 || $12 !~ /^[01]$/) { bad = NR }
         END { exit bad || NR < 2 }' "$work/log.csv" || fail "log.csv has malformed rows"
[ -e "$work/log.csv.partial" ] && fail "the log's partial file is left behind"

# Whatever ends training saves the final checkpoint: here --max-steps.
run "$regrad" train $small --max-steps 50 --quiet --save "$work/steps.ckpt"
[ "$(status)" = 0 ] && [ -s "$work/steps.ckpt" ] || fail "--max-steps 50 --save wrote no checkpoint"

# Resuming gives the bits of an uninterrupted run: after a whole epoch, and
# from the middle of one (--max-steps), with the EMA clipper's statistics.
run "$regrad" train $small --epochs 2 --quiet --save "$work/straight.ckpt"
run "$regrad" train $small --epochs 2 --quiet --load "$work/model.ckpt" --save "$work/resumed.ckpt"
cmp -s "$work/straight.ckpt" "$work/resumed.ckpt" || fail "a resumed run differs from an uninterrupted one"
ema="--clip ema --ema-warmup 5 --z-threshold 3 --schedule cosine --warmup 10 --total-steps 40"
run "$regrad" train $small $ema --epochs 2 --quiet --save "$work/ema-straight.ckpt"
run "$regrad" train $small $ema --epochs 2 --max-steps 30 --quiet --save "$work/ema-half.ckpt"
run "$regrad" train $small $ema --epochs 2 --quiet --load "$work/ema-half.ckpt" --save "$work/ema-resumed.ckpt"
cmp -s "$work/ema-straight.ckpt" "$work/ema-resumed.ckpt" || fail "a run resumed mid-epoch with --clip ema differs"

# --save-every N --keep K: the latest and the last K periodic checkpoints.
run "$regrad" train $small --max-steps 50 --quiet --save "$work/p.ckpt" --save-every 10 --keep 2
kept=$(cd "$work" && ls p.ckpt.step-* 2>/dev/null | tr '\n' ' ')
[ "$kept" = "p.ckpt.step-40 p.ckpt.step-50 " ] || fail "--keep 2 kept '$kept'"

# Ctrl-C saves and exits 130; the saved run resumes.
"$regrad" train $small --epochs 100000 --save "$work/int.ckpt" >"$work/out" 2>"$work/err" &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] && grep -q 'interrupted after step' "$work/err" || fail "Ctrl-C: exit $rc, $(tail -2 "$work/err")"
run "$regrad" train $small --epochs 1 --quiet --load "$work/int.ckpt"
[ "$(status)" = 0 ] || fail "resuming after Ctrl-C exited $(status): $(cat "$work/err")"

# Early stopping on the validation loss.
run "$regrad" train $small --epochs 30 --lr 0.3 --early-stop 1 --quiet
[ "$(status)" = 0 ] && grep -q '^stopped early' "$work/out" || fail "--early-stop 1 did not stop early: $(cat "$work/out")"

# Weight decay: adam + decoupled is honoured (differs from coupled); adamw
# cannot be coupled.
run "$regrad" train $small --max-steps 20 --quiet --optimizer adam --lr 0.01 --weight-decay 0.1 --save "$work/coupled.ckpt"
run "$regrad" train $small --max-steps 20 --quiet --optimizer adam --lr 0.01 --weight-decay 0.1 --decay decoupled --save "$work/decoupled.ckpt"
cmp -s "$work/coupled.ckpt" "$work/decoupled.ckpt" && fail "--decay decoupled with adam changed nothing"
run "$regrad" train $small --optimizer adamw --decay coupled
[ "$(status)" = 2 ] || fail "adamw with coupled decay exited $(status), not 2"

# Boolean flags take --flag, --no-flag and --flag=false.
run "$regrad" train $small --max-steps 5 --no-alerts --quiet=true --anomaly=false
[ "$(status)" = 0 ] || fail "boolean flag forms: $(cat "$work/err")"
run "$regrad" train --no-lr
[ "$(status)" = 2 ] || fail "--no- of a non-boolean flag exited $(status)"

# Gradient alerts as training runs: a deep sigmoid net with tiny weights.
run "$regrad" train --layers 32,32,32,32,32,32 --activation sigmoid --init normal --init-scale 0.01 --train-limit 500 --max-steps 3 --threads 1
grep -q 'vanishing gradient in mlp.0.w' "$work/err" || fail "no vanishing-gradient alert: $(cat "$work/err")"

# The configured model's gradient checks out.
run "$regrad" gradcheck --layers 8 --train-limit 100 --batch-norm --dropout 0.2 --l2 1e-3 --threads 1
[ "$(status)" = 0 ] && grep -q '^gradcheck: .* 0 failed' "$work/out" || fail "gradcheck: $(cat "$work/out" "$work/err")"

# Divergence stops the run with the step and exit status 1 (policy error),
# and saves nothing after it.
run "$regrad" train $small --epochs 1 --quiet --lr 50 --save "$work/diverged.ckpt"
[ "$(status)" = 1 ] && grep -q 'diverged at step [0-9]' "$work/err" || fail "divergence not reported: $(cat "$work/err")"
[ -e "$work/diverged.ckpt" ] && fail "a diverged run saved a checkpoint"

# Without MPI, a launcher's ranks are refused rather than trained apart.
if "$regrad" info | grep -q '^mpi: no'; then
  run env OMPI_COMM_WORLD_SIZE=2 "$regrad" train $small --dist --max-steps 2
  [ "$(status)" = 2 ] && grep -q 'without MPI' "$work/err" || fail "--dist under a launcher without MPI: $(cat "$work/err")"
fi

[ $failures = 0 ] && echo "all CLI checks passed"
[ $failures = 0 ]
