"""PyTorch side of bench/compare.c, run by it as a co-process.

Protocol on stdin/stdout, one line each way:
  start:            prints "ready <torch version>", or "skip <reason>" and exits
  "<workload> <ms>" runs one timed sample of at least <ms> milliseconds and
                    prints its figure (unit as in compare.c), or "error <why>"
  "quit"            exits
Threads: the parent sets OMP_NUM_THREADS / MKL_NUM_THREADS /
OPENBLAS_NUM_THREADS before this starts; torch.set_num_threads repeats it.
Timing: wall clock (time.perf_counter) unless REGRAD_BENCH_CPU_TIME=1 asks
for process CPU time (time.process_time), as the C side does.

Workloads (the same models, data shapes and settings as compare.c):
  mlp       784-256-256-10 ReLU, batch 128, SGD lr 0.01 momentum 0.9
            weight decay 5e-4, softmax cross-entropy: samples/s
  mlp_reg   mlp + dropout 0.5 after each hidden ReLU + clip_grad_norm_(1.0)
  deep      784 -> 20 x 64 tanh -> 10, batch 128, same optimizer: samples/s
  infer1    mlp forward of one sample, no grad, eval mode: microseconds
  add1      forward + backward of one add of [1] tensors: microseconds
  add_chain a chain of 100 adds, forward + backward, per add: microseconds
  epoch     one Fashion-MNIST training epoch of mlp (60000 samples, shuffled
            batches of 128): seconds
"""
import gzip
import os
import sys
import time

BATCH = 128
CHAIN = 100


def clock():
    if os.environ.get("REGRAD_BENCH_CPU_TIME") == "1":
        return time.process_time()
    return time.perf_counter()


def mlp(torch, widths, act, dropout=0.0):
    layers, fan_in = [], 784
    for w in widths:
        layers += [torch.nn.Linear(fan_in, w), act()]
        if dropout > 0:
            layers.append(torch.nn.Dropout(dropout))
        fan_in = w
    layers.append(torch.nn.Linear(fan_in, 10))
    return torch.nn.Sequential(*layers)


class Trainer:
    """One model with its optimizer and a fixed synthetic batch."""

    def __init__(self, torch, model, clip):
        self.torch, self.model, self.clip = torch, model, clip
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        gen = torch.Generator().manual_seed(1)
        self.x = torch.rand(BATCH, 784, generator=gen)
        self.y = torch.randint(0, 10, (BATCH,), generator=gen)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        if self.clip:
            self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()

    def run(self, n):
        for _ in range(n):
            self.step(self.x, self.y)
        return n * BATCH


def load_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw


def find(data_dir, name):
    for suffix in ("", ".gz"):
        path = os.path.join(data_dir, name + suffix)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(os.path.join(data_dir, name))


class Epoch:
    """The mlp trainer over the Fashion-MNIST training set, pixels / 255."""

    def __init__(self, torch, data_dir):
        images = load_idx(find(data_dir, "train-images-idx3-ubyte"))
        labels = load_idx(find(data_dir, "train-labels-idx1-ubyte"))
        n = int.from_bytes(labels[4:8], "big")
        x = torch.frombuffer(bytearray(images[16:]), dtype=torch.uint8)
        self.x = x.view(n, 784).float().div_(255.0)
        self.y = torch.frombuffer(bytearray(labels[8:]), dtype=torch.uint8).long()
        self.trainer = Trainer(torch, mlp(torch, [256, 256], torch.nn.ReLU), False)
        self.torch, self.epoch = torch, 0

    def run(self):
        gen = self.torch.Generator().manual_seed(self.epoch)
        self.epoch += 1
        perm = self.torch.randperm(self.x.shape[0], generator=gen)
        for at in range(0, self.x.shape[0], BATCH):
            idx = perm[at:at + BATCH]
            self.trainer.step(self.x[idx], self.y[idx])


def timed(fn, reps):
    t0 = clock()
    fn(reps)
    return clock() - t0


class Bench:
    def __init__(self, torch, data_dir):
        self.torch, self.data_dir = torch, data_dir
        self.cache, self.reps = {}, {}

    def make(self, name):
        t = self.torch
        if name == "mlp":
            return Trainer(t, mlp(t, [256, 256], t.nn.ReLU), False)
        if name == "mlp_reg":
            return Trainer(t, mlp(t, [256, 256], t.nn.ReLU, 0.5), True)
        if name == "deep":
            return Trainer(t, mlp(t, [64] * 20, t.nn.Tanh), False)
        if name == "infer1":
            model = mlp(t, [256, 256], t.nn.ReLU).eval()
            return (model, t.rand(1, 784))
        if name in ("add1", "add_chain"):
            return (t.zeros(1, requires_grad=True), t.ones(1))
        if name == "epoch":
            return Epoch(t, self.data_dir)
        raise KeyError(name)

    def body(self, name, obj):
        """(function of reps, units of work per rep, scale to the unit)."""
        t = self.torch
        if name in ("mlp", "mlp_reg", "deep"):
            return obj.run, BATCH, None
        if name == "infer1":
            model, x = obj

            def infer(n):
                with t.no_grad():
                    for _ in range(n):
                        model(x)
            return infer, 1, 1e6
        if name in ("add1", "add_chain"):
            w, c = obj
            links = 1 if name == "add1" else CHAIN

            def adds(n):
                for _ in range(n):
                    y = w
                    for _ in range(links):
                        y = y + c
                    y.backward()
                w.grad = None
            return adds, links, 1e6
        raise KeyError(name)

    def sample(self, name, ms):
        obj = self.cache.get(name) or self.cache.setdefault(name, self.make(name))
        if name == "epoch":
            if name not in self.reps:  # one untimed epoch, as the C side
                obj.run()
                self.reps[name] = 1
            t0 = clock()
            obj.run()
            return clock() - t0
        fn, per_rep, to_unit = self.body(name, obj)
        reps = self.reps.get(name)
        if reps is None:  # calibrate: about ms milliseconds per sample
            fn(2)
            reps = 1
            while True:
                dt = timed(fn, reps)
                if dt >= ms / 4000.0 or reps >= 1 << 24:
                    break
                reps *= 2
            reps = max(1, int(reps * (ms / 1000.0) / max(dt, 1e-9)))
            self.reps[name] = reps
        dt = timed(fn, reps)
        work = reps * per_rep
        return work / dt if to_unit is None else dt / work * to_unit


def main():
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    try:
        import torch
    except ImportError as e:
        print("skip python3-torch not installed (%s)" % e, flush=True)
        return
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    bench = Bench(torch, data_dir)
    print("ready %s" % torch.__version__, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        try:
            value = bench.sample(words[0], float(words[1]) if len(words) > 1 else 100.0)
            print("%.9g" % value, flush=True)
        except Exception as e:  # report, keep serving
            print("error %s: %s" % (type(e).__name__, str(e).replace("\n", " ")), flush=True)


if __name__ == "__main__":
    main()
