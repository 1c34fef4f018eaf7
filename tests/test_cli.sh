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
# One line saying what is wrong and one pointing to --help, not the usage.
run "$regrad" train --no-such-flag
[ "$(status)" = 2 ] || fail "an unknown flag exited $(status), not 2"
grep -q 'regrad train: unknown flag --no-such-flag' "$work/err" || fail "unknown flag not named: $(head -1 "$work/err")"
[ "$(sed -n 2p "$work/err")" = 'see `regrad train --help`' ] || fail "no --help hint after a bad flag: $(sed -n 2p "$work/err")"
[ "$(wc -l <"$work/err")" = 2 ] || fail "a bad flag printed $(wc -l <"$work/err") lines, not 2"
run "$regrad" study --steps x
[ "$(status)" = 2 ] && [ "$(wc -l <"$work/err")" = 2 ] && grep -q '^see `regrad study --help`$' "$work/err" ||
  fail "study: a bad flag printed: $(cat "$work/err")"
# Numbers are decimal: no hex, inf, nan, dangling exponent or spaces, for
# every numeric kind (real, int, int64, uint64, list).
run "$regrad" train --lr 0x10
[ "$(status)" = 2 ] && grep -q -- '--lr: "0x10" is not a number' "$work/err" || fail "--lr 0x10 accepted or not explained: $(head -1 "$work/err")"
for bad in 0x10 0X1p3 inf -inf INF infinity nan NAN 1e 1e+ 1.2.3 ' 0.1' '0.1 ' '' . - +; do
  for flag in lr val-fraction; do
    run "$regrad" train --$flag "$bad"
    [ "$(status)" = 2 ] || fail "--$flag '$bad' accepted"
  done
done
for bad in 0x10 ' 3' '3 ' 3.0 1e2 '' + -; do
  for flag in epochs batch seed; do
    run "$regrad" train --$flag "$bad"
    [ "$(status)" = 2 ] || fail "--$flag '$bad' accepted"
  done
done
for bad in 0x40 ' 64' '64 ' '64, 32' 64,,32 64.0 1e2; do
  run "$regrad" train --layers "$bad"
  [ "$(status)" = 2 ] || fail "--layers '$bad' accepted"
done
for good in 0.1 .5 5. 1e-3 1E-3 +0.25 2.5e+1; do
  run "$regrad" train --lr "$good" --epochs 0
  grep -q -- '--epochs' "$work/err" || fail "--lr '$good' refused: $(head -1 "$work/err")"
done
# ISA names in any case, on the command line and in REGRAD_ISA.
for isa in SCALAR Scalar scalar Auto; do
  run "$regrad" train --isa "$isa" --epochs 0
  grep -q -- '--epochs' "$work/err" || fail "--isa $isa refused: $(head -1 "$work/err")"
  run "$regrad" study --isa "$isa" --steps x
  grep -q -- '--steps' "$work/err" || fail "study --isa $isa refused: $(head -1 "$work/err")"
done
run env REGRAD_ISA=SCALAR "$regrad" info
grep -q '^isa in force: scalar (REGRAD_ISA)' "$work/out" || fail "REGRAD_ISA=SCALAR: $(cat "$work/err")"
run "$regrad" train --lr=fast
[ "$(status)" = 2 ] || fail "a malformed value exited $(status), not 2"
grep -q -- '--lr: "fast" is not a number' "$work/err" || fail "bad value not explained: $(head -1 "$work/err")"
run "$regrad" train --epochs 0
[ "$(status)" = 2 ] || fail "an out-of-range value exited $(status), not 2"
# --init-gain: decimal and > 0, and only for schemes that have a gain (one
# line naming the flag, exit 2).
for init in normal uniform standard; do
  run "$regrad" train --init $init --init-gain 2
  [ "$(status)" = 2 ] && [ "$(wc -l <"$work/err")" = 1 ] && grep -q -- '--init-gain applies to' "$work/err" ||
    fail "--init $init --init-gain 2: exit $(status): $(cat "$work/err")"
done
for bad in 0 -1 nan inf; do
  run "$regrad" train --init xavier-normal --init-gain "$bad"
  [ "$(status)" = 2 ] || fail "--init-gain '$bad' accepted"
done
run "$regrad" no-such-command
[ "$(status)" = 2 ] || fail "an unknown command exited $(status), not 2"

# --- input files that are not regular files are refused, never waited on --
mkdir "$work/fifodata"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  mkfifo "$work/fifodata/$f"
done
run timeout 20 "$regrad" train --quiet --data "$work/fifodata"
[ "$(status)" = 1 ] || fail "train on FIFO data exited $(status), not 1: $(cat "$work/err")"
grep -q 'train-images-idx3-ubyte" is a FIFO, expected a regular file' "$work/err" ||
  fail "FIFO data not named: $(cat "$work/err")"
mkfifo "$work/fifo.ckpt"

# --- a lying data file fails fast and small; the memory limit ---------------
# u32 big-endian of $1 as 4 bytes.
be32() {
  for shift in 24 16 8 0; do
    printf "\\$(printf %03o $(( ($1 >> shift) & 255 )))"
  done
}
# IDX image header claiming $1 images of $2 x $3.
idx3_header() { printf '\0\0\10\3'; be32 "$1"; be32 "$2"; be32 "$3"; }
mkdir "$work/lying"
printf '\0\0\10\1\0\0\0\1\0' >"$work/lying/train-labels-idx1-ubyte"
# 2^40 bytes claimed (2^20 images of 1024 x 1024), 100 MB of zeros given.
{ idx3_header 1048576 1024 1024; head -c 104857600 /dev/zero; } | gzip -9 >"$work/lying/train-images-idx3-ubyte.gz"
if [ -x /usr/bin/time ]; then
  run /usr/bin/time -f 'maxrss %M kB' "$regrad" train --quiet --data "$work/lying"
  rss=$(sed -n 's/^maxrss \([0-9]*\) kB$/\1/p' "$work/err")
  [ -n "$rss" ] && [ "$rss" -lt 102400 ] || fail "a 2^40-byte claim took ${rss:-?} kB (more than 100 MB)"
else
  run "$regrad" train --quiet --data "$work/lying"
fi
[ "$(status)" = 1 ] || fail "a 2^40-byte claim exited $(status), not 1"
grep -q 'claims 1099511627776 bytes of pixel data, more than a gzip file of' "$work/err" ||
  fail "a 2^40-byte claim is not explained: $(head -1 "$work/err")"

# A claim of the machine's whole memory in a file large enough to hold it:
# the default limit (3/4 of RAM or of the cgroup limit) refuses it before
# reading; --mem-limit sets another limit, --mem-limit 0 none.
ram=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
if [ -n "$ram" ] && [ "$ram" -le 68719476736 ]; then
  images=$(( ram / 1048576 + 1 ))
  { idx3_header "$images" 1024 1024; head -c $(( ram / 1000 )) /dev/urandom; } |
    gzip -1 >"$work/lying/train-images-idx3-ubyte.gz"
  run "$regrad" train --quiet --data "$work/lying"
  [ "$(status)" = 1 ] && grep -q "bytes of pixel data; with the dataset made from them that would pass the memory limit of" "$work/err" ||
    fail "the default memory limit did not refuse a claim of all memory: $(head -1 "$work/err")"
  run "$regrad" train --quiet --mem-limit 0 --data "$work/lying"
  [ "$(status)" = 1 ] && grep -q "but the file holds" "$work/err" ||
    fail "--mem-limit 0 did not lift the limit: $(head -1 "$work/err")"
else
  echo "more than 64 GiB of memory: the default memory limit is not checked"
fi
{ idx3_header 1000 320 320; head -c 1048576 /dev/urandom; } | gzip -1 >"$work/lying/train-images-idx3-ubyte.gz"
run "$regrad" train --quiet --mem-limit 64M --data "$work/lying"
[ "$(status)" = 1 ] && grep -q "claims 102400000 bytes of pixel data; .*memory limit of 67108864 bytes" "$work/err" ||
  fail "--mem-limit 64M did not refuse a 100 MB claim: $(head -1 "$work/err")"
cp "$work/lying/train-images-idx3-ubyte.gz" "$work/lying/t10k-images-idx3-ubyte.gz"
cp "$work/lying/train-labels-idx1-ubyte" "$work/lying/t10k-labels-idx1-ubyte"
"$regrad" train --layers 4 --train-limit 200 --max-steps 1 --quiet --threads 1 --save "$work/tiny.ckpt" >/dev/null 2>&1
run "$regrad" eval --mem-limit 64M --data "$work/lying" --load "$work/tiny.ckpt"
[ "$(status)" = 1 ] && grep -q "memory limit of 67108864 bytes" "$work/err" ||
  fail "eval --mem-limit 64M did not refuse a 100 MB claim: $(head -1 "$work/err")"
run "$regrad" study --mem-limit 64M --data "$work/lying" --grid sigmoid-small --steps 1 --out "$work/study-lying" --figures=false
[ "$(status)" = 1 ] && grep -q "memory limit of 67108864 bytes" "$work/err" ||
  fail "study --mem-limit 64M did not refuse a 100 MB claim: $(tail -1 "$work/err")"
for bad in 12Q 0x10 -5 1.5G '' 99999999999999999999; do
  run "$regrad" train --mem-limit "$bad"
  [ "$(status)" = 2 ] || fail "--mem-limit '$bad' exited $(status), not 2"
done

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

run timeout 20 "$regrad" eval --load "$work/fifo.ckpt"
[ "$(status)" = 1 ] || fail "eval --load FIFO exited $(status), not 1: $(cat "$work/err")"
grep -q 'fifo.ckpt" is a FIFO, expected a regular file' "$work/err" ||
  fail "FIFO checkpoint not named: $(cat "$work/err")"


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

# --init-gain: Xavier's default is gain 1 (the same weights as
# --init-gain 1), another gain changes them; --init standard trains.
for gain in default 1 1.5; do
  flag=; [ $gain = default ] || flag="--init-gain $gain"
  run "$regrad" train $small --max-steps 1 --quiet --init xavier-normal $flag --save "$work/xavier-$gain.ckpt"
  [ "$(status)" = 0 ] || fail "--init xavier-normal $flag: $(cat "$work/err")"
done
cmp -s "$work/xavier-default.ckpt" "$work/xavier-1.ckpt" || fail "xavier-normal's default gain is not 1"
cmp -s "$work/xavier-1.ckpt" "$work/xavier-1.5.ckpt" && fail "--init-gain 1.5 changed nothing"
run "$regrad" train $small --max-steps 1 --quiet --init standard
[ "$(status)" = 0 ] || fail "--init standard: $(cat "$work/err")"

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

# study --out that cannot be written fails before any training.
run "$regrad" study --grid sigmoid-small --steps 2 --train-limit 600 --test-limit 100 --figures=false --out /proc/self
[ "$(status)" = 1 ] && grep -q '/proc/self' "$work/err" && ! grep -q '\[1/1\]' "$work/err" ||
  fail "study --out /proc/self: $(cat "$work/err")"
if [ "$(id -u)" != 0 ]; then
  mkdir "$work/readonly" && chmod 555 "$work/readonly"
  run "$regrad" study --grid sigmoid-small --steps 2 --train-limit 600 --test-limit 100 --figures=false --out "$work/readonly"
  [ "$(status)" = 1 ] && ! grep -q '\[1/1\]' "$work/err" || fail "study --out read-only: $(cat "$work/err")"
elif unshare -m true 2>/dev/null; then
  mkdir "$work/readonly"
  run unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"' sh "$work/readonly" \
    "$regrad" study --grid sigmoid-small --steps 2 --train-limit 600 --test-limit 100 --figures=false --out "$work/readonly"
  [ "$(status)" = 1 ] && grep -q 'Read-only file system' "$work/err" && ! grep -q '\[1/1\]' "$work/err" ||
    fail "study --out on a read-only file system: $(cat "$work/err")"
fi

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
