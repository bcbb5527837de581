#!/usr/bin/python3
"""PyTorch reference for the sngan CPU benchmark (the models and settings of Miyato et al. 2018,
Tables 1 and 3-5).

Trains the paper's standard CNN or 32x32 ResNet SN-GAN on synthetic data (random tensors in
[-1, 1], generated once and cycled) with exactly the step sngan executes, and prints the same
figures as `sngan bench`. Uses Debian's PyTorch (apt-get install python3-torch); run it with
/usr/bin/python3 (a pyenv/venv python3 on PATH will not see the Debian package).

  scripts/bench/torch_reference.py --arch standard_cnn --threads 2 --iters 5
  scripts/bench/torch_reference.py --arch resnet --n-dis 5 --threads 2 --iters 5 --phases

One generator iteration = n_dis D steps + 1 G step:
  D step: real batch (B,3,32,32); z ~ N(0,I) (B,128); fake = G(z) under no_grad;
          loss_d = mean(softplus(-D(real))) + mean(softplus(D(fake)))
                   (hinge: mean(relu(1-D(real))) + mean(relu(1+D(fake))));
          two D forwards (real, then fake; each advances SN's u); zero_grad, backward, Adam step.
  G step: z (Bg,128); loss_g = mean(softplus(-D(G(z)))) (hinge: -mean(D(G(z))));
          D's params have requires_grad=False (no D weight grads); zero_grad G, backward, Adam.

The last output line is machine-readable:
  RESULT impl=torch arch=<arch> batch=<B> n_dis=<n> threads=<T> ms_per_iter=<median>
         images_per_s=<x> gflop_per_iter=<f> gflops=<achieved> peak_rss_mb=<m>
(one line). images_per_s = real images consumed per second = n_dis*B / median seconds.
gflops = gflop_per_iter / median seconds.
"""
import argparse
import contextlib
import os
import platform
import resource
import statistics
import sys
import time


def _default_threads():
    return len(os.sched_getaffinity(0))


# BLAS libraries read their thread count when torch loads them: set it from --threads first.
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=_default_threads())
_t = str(max(1, _pre.parse_known_args()[0].threads))
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_v, _t)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("torch_reference.py: PyTorch not found for %s; install Debian's: "
             "apt-get install -y python3-torch (and run with /usr/bin/python3)" % sys.executable)

Z_DIM = 128
SN = nn.utils.spectral_norm  # 1 power iteration per training forward, eps 1e-12


# ------------------------------------------------- models (Miyato et al. 2018, Tables 3-5)
class PhaseDeconv(nn.ConvTranspose2d):
    """ConvTranspose2d(k=4, s=2, p=1), same parameters and result, computed as 4 Conv2d with
    2x2 kernels (one per output phase (a, b), exact multiply-add count) + pixel_shuffle.
    torch 1.13 runs nn.ConvTranspose2d on CPU through slow_conv_transpose2d (im2col + BLAS,
    no oneDNN); this lets Conv2d's oneDNN path do the work (--deconv phase).
    out[2i+a, 2j+b] uses input rows (i-1, i) with kernel rows (3, 1) for a = 0 and rows
    (i, i+1) with kernel rows (2, 0) for a = 1; the same for columns."""
    TAPS = ((3, 1), (2, 0))
    PADS = ((1, 0), (0, 1))

    def forward(self, x):
        wt = self.weight.transpose(0, 1)  # (Cout, Cin, 4, 4)
        outs = []
        for a in (0, 1):
            for b in (0, 1):
                w = wt[:, :, self.TAPS[a], :][:, :, :, self.TAPS[b]]
                xp = F.pad(x, self.PADS[b] + self.PADS[a])  # (left, right, top, bottom)
                outs.append(F.conv2d(xp, w, self.bias))
        n, c, h, w_ = outs[0].shape
        return F.pixel_shuffle(torch.stack(outs, 2).reshape(n, c * 4, h, w_), 2)


def standard_generator(deconv="native"):
    Deconv = PhaseDeconv if deconv == "phase" else nn.ConvTranspose2d
    return nn.Sequential(
        nn.Linear(Z_DIM, 4 * 4 * 512), nn.Unflatten(1, (512, 4, 4)),
        Deconv(512, 256, 4, 2, 1), nn.BatchNorm2d(256), nn.ReLU(True),
        Deconv(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(True),
        Deconv(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.Conv2d(64, 3, 3, 1, 1), nn.Tanh())


def standard_discriminator():
    layers, cin = [], 3
    for cout, k, s in [(64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2),
                       (256, 3, 1), (256, 4, 2), (512, 3, 1)]:
        layers += [SN(nn.Conv2d(cin, cout, k, s, 1)), nn.LeakyReLU(0.1, True)]
        cin = cout
    return nn.Sequential(*layers, nn.Flatten(), SN(nn.Linear(4 * 4 * 512, 1)))


class GBlock(nn.Module):
    """BN, ReLU, up x2 (nearest), conv3x3, BN, ReLU, conv3x3; shortcut: up x2 then conv1x1."""

    def __init__(self, cin, cout):
        super().__init__()
        self.b1, self.c1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.b2, self.c2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.sc = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = F.interpolate(F.relu(self.b1(x)), scale_factor=2, mode="nearest")
        h = self.c2(F.relu(self.b2(self.c1(h))))
        return h + self.sc(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResNetGenerator(nn.Module):
    def __init__(self, ch=256):
        super().__init__()
        self.ch = ch
        self.l1 = nn.Linear(Z_DIM, 4 * 4 * ch)
        self.blocks = nn.Sequential(GBlock(ch, ch), GBlock(ch, ch), GBlock(ch, ch))
        self.bn, self.out = nn.BatchNorm2d(ch), nn.Conv2d(ch, 3, 3, 1, 1)

    def forward(self, z):
        h = self.blocks(self.l1(z).view(-1, self.ch, 4, 4))
        return torch.tanh(self.out(F.relu(self.bn(h))))


class OptimizedDBlock(nn.Module):
    """conv3x3, ReLU, conv3x3, avgpool2; shortcut: avgpool2 then conv1x1 (no pre-activation)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.c1, self.c2 = SN(nn.Conv2d(cin, cout, 3, 1, 1)), SN(nn.Conv2d(cout, cout, 3, 1, 1))
        self.sc = SN(nn.Conv2d(cin, cout, 1))

    def forward(self, x):
        h = F.avg_pool2d(self.c2(F.relu(self.c1(x))), 2)
        return h + self.sc(F.avg_pool2d(x, 2))


class DBlock(nn.Module):
    """ReLU, conv3x3, ReLU, conv3x3 (avgpool2 if down); shortcut conv1x1 then avgpool2 when
    down or channels change, identity otherwise."""

    def __init__(self, cin, cout, down):
        super().__init__()
        self.down = down
        self.c1, self.c2 = SN(nn.Conv2d(cin, cout, 3, 1, 1)), SN(nn.Conv2d(cout, cout, 3, 1, 1))
        self.sc = SN(nn.Conv2d(cin, cout, 1)) if (down or cin != cout) else None

    def forward(self, x):
        h = self.c2(F.relu(self.c1(F.relu(x))))
        s = x if self.sc is None else self.sc(x)
        if self.down:
            h, s = F.avg_pool2d(h, 2), F.avg_pool2d(s, 2)
        return h + s


class ResNetDiscriminator(nn.Module):
    def __init__(self, ch=128):
        super().__init__()
        self.blocks = nn.Sequential(OptimizedDBlock(3, ch), DBlock(ch, ch, True),
                                    DBlock(ch, ch, False), DBlock(ch, ch, False))
        self.l = SN(nn.Linear(ch, 1, bias=False))

    def forward(self, x):
        return self.l(F.relu(self.blocks(x)).sum(dim=(2, 3)))


def build(arch, deconv="native"):
    if arch == "standard_cnn":
        return standard_generator(deconv), standard_discriminator()
    return ResNetGenerator(), ResNetDiscriminator()


# ---------------------------------------------------------------- analytic FLOP count
def layer_macs(model, x):
    """Per-image forward multiply-adds of every conv/linear, from the layer shapes.

    Returns (total, no_input_grad): no_input_grad sums the layers whose input does not require
    grad when the network input does not (first layers, e.g. D's first conv and, in the
    ResNet, the shortcut conv on avgpool(x); G's dense layer on z): their backward needs the
    weight grad only. Runs one batch-1 forward in eval mode (SN's u is not advanced).
    """
    rows = []

    def hook(m, inp, out):
        w = m.weight  # with spectral_norm this is W / sigma, same shape
        if isinstance(m, nn.Linear):
            macs = w.shape[0] * w.shape[1]
        elif isinstance(m, nn.ConvTranspose2d):  # every input pixel scatters a k*k*Cout patch
            macs = w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3] * inp[0].shape[2] * inp[0].shape[3]
        else:  # Conv2d
            macs = w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3] * out.shape[2] * out.shape[3]
        rows.append((macs, inp[0].requires_grad))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        model(x)
    model.train(was_training)
    for h in handles:
        h.remove()
    return sum(m for m, _ in rows), sum(m for m, g in rows if not g)


def flop_per_iter(G, D, batch, g_batch, n_dis):
    """FLOP of one generator iteration, conv/linear layers only (BN, activations, pooling,
    SN power iterations, Adam are not counted). FLOP = 2 * multiply-adds. Backward of a layer
    = 1x forward for the input grad + 1x forward for the weight grad.
      FG, FD   = per-image forward MACs of G, D
      FG0, FD0 = per-image MACs of the layers whose input grad is not needed (see layer_macs)
      D step  = B*FG (G fwd, no grad) + 2B*FD (D fwd real+fake) + 2B*(2FD - FD0) (D bwd)
      G step  = Bg*FG + Bg*FD (fwd) + Bg*FD (D bwd, input grads only, incl. first layer)
                + Bg*(2FG - FG0) (G bwd)
      FLOP    = 2 * (n_dis * D step + G step)
    (Counting D's weight grads in the G step too, Bg*(FD - FD0) more MACs, gives ~178 GFLOP
    for setting C; sngan and this script skip them.)
    """
    FG, FG0 = layer_macs(G, torch.randn(1, Z_DIM))
    FD, FD0 = layer_macs(D, torch.rand(1, 3, 32, 32) * 2 - 1)
    d_step = batch * FG + 2 * batch * FD + 2 * batch * (2 * FD - FD0)
    g_step = g_batch * FG + g_batch * FD + g_batch * FD + g_batch * (2 * FG - FG0)
    return 2.0 * (n_dis * d_step + g_step), (FG, FG0, FD, FD0)


# ---------------------------------------------------------------- training step
class Phases:
    """Synchronous wall-clock split of one generator iteration (CPU: no async queue)."""
    NAMES = ("g_fwd", "g_bwd", "d_fwd", "d_bwd", "optim", "other")

    def __init__(self):
        self.acc = {n: 0.0 for n in self.NAMES}
        self.per_iter = []
        self.t = time.perf_counter()

    def start(self):
        self.t = time.perf_counter()

    def mark(self, name):
        now = time.perf_counter()
        self.acc[name] += now - self.t
        self.t = now

    def end_iter(self):
        self.per_iter.append(self.acc)
        self.acc = {n: 0.0 for n in self.NAMES}


def make_step(args, G, D, opt_g, opt_d, data):
    hinge = args.loss == "hinge"

    def fwd():
        """Forward passes under CPU autocast with --autocast bf16 (convs and linears in bf16)."""
        if args.autocast == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    d_params = list(D.parameters())
    cursor = [0]

    def next_real():
        x = data[cursor[0] % len(data)]
        cursor[0] += 1
        return x

    def d_loss(out_real, out_fake):
        if hinge:
            return F.relu(1 - out_real).mean() + F.relu(1 + out_fake).mean()
        return F.softplus(-out_real).mean() + F.softplus(out_fake).mean()

    def g_loss(out_fake):
        return -out_fake.mean() if hinge else F.softplus(-out_fake).mean()

    def step():
        for p in d_params:
            p.requires_grad_(True)
        for _ in range(args.n_dis):
            real = next_real()
            z = torch.randn(args.batch, Z_DIM)
            with torch.no_grad(), fwd():
                fake = G(z)
            with fwd():
                loss_d = d_loss(D(real), D(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        for p in d_params:
            p.requires_grad_(False)
        z = torch.randn(args.g_batch, Z_DIM)
        with fwd():
            loss_g = g_loss(D(G(z)))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()

    def step_phases(ph):
        """Same computation; G step's backward split at G's output into D bwd, then G bwd."""
        ph.start()
        for p in d_params:
            p.requires_grad_(True)
        for _ in range(args.n_dis):
            real = next_real()
            z = torch.randn(args.batch, Z_DIM)
            ph.mark("other")
            with torch.no_grad(), fwd():
                fake = G(z)
            ph.mark("g_fwd")
            with fwd():
                loss_d = d_loss(D(real), D(fake))
            ph.mark("d_fwd")
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            ph.mark("d_bwd")
            opt_d.step()
            ph.mark("optim")
        for p in d_params:
            p.requires_grad_(False)
        z = torch.randn(args.g_batch, Z_DIM)
        ph.mark("other")
        with fwd():
            fake = G(z)
        ph.mark("g_fwd")
        fake_in = fake.detach().requires_grad_(True)
        with fwd():
            loss_g = g_loss(D(fake_in))
        ph.mark("d_fwd")
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        ph.mark("d_bwd")
        fake.backward(fake_in.grad)
        ph.mark("g_bwd")
        opt_g.step()
        ph.mark("optim")
        out = loss_d.item(), loss_g.item()
        ph.mark("other")
        ph.end_iter()
        return out

    return step, step_phases


def blas_in_use():
    """Paths of the BLAS shared objects mapped into this process (after torch's import)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return "unknown"
    libs = sorted(os.path.realpath(p) for p in libs)
    return ", ".join(libs) or "none found"


# ---------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", choices=("standard_cnn", "resnet"), default="standard_cnn")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--g-batch", type=int, default=None, help="G-step batch (default: --batch)")
    p.add_argument("--n-dis", type=int, default=1)
    p.add_argument("--loss", choices=("standard", "hinge"), default=None,
                   help="default: standard for standard_cnn, hinge for resnet")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=None, help="default 0.5 (resnet: 0.0)")
    p.add_argument("--beta2", type=float, default=None, help="default 0.999 (resnet: 0.9)")
    p.add_argument("--iters", type=int, default=10, help="measured generator iterations")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured generator iterations")
    p.add_argument("--threads", type=int, default=_default_threads(),
                   help="intra-op threads (default: CPUs available); inter-op threads = 1")
    p.add_argument("--data-batches", type=int, default=16,
                   help="synthetic real batches generated once and cycled")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deconv", choices=("native", "phase"), default="native",
                   help="standard CNN G: nn.ConvTranspose2d (default) or the same deconv as 4 "
                   "oneDNN Conv2d + pixel_shuffle (torch 1.13's CPU ConvTranspose2d is slow)")
    p.add_argument("--autocast", choices=("off", "bf16"), default="off",
                   help="bf16: forward passes under torch.autocast('cpu', bfloat16), PyTorch's "
                   "mixed-precision mode (convs and linears in bf16 on oneDNN)")
    p.add_argument("--phases", action="store_true",
                   help="also time G fwd / G bwd / D fwd / D bwd / optimizer per iteration")
    a = p.parse_args(argv)
    resnet = a.arch == "resnet"
    a.g_batch = a.batch if a.g_batch is None else a.g_batch
    a.loss = a.loss or ("hinge" if resnet else "standard")
    a.beta1 = a.beta1 if a.beta1 is not None else (0.0 if resnet else 0.5)
    a.beta2 = a.beta2 if a.beta2 is not None else (0.9 if resnet else 0.999)
    if min(a.batch, a.g_batch, a.n_dis, a.iters, a.threads, a.data_batches) < 1 or a.warmup < 0:
        p.error("--batch, --g-batch, --n-dis, --iters, --threads, --data-batches must be >= 1")
    return a


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_interop_threads(1)  # must precede any parallel work
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    G, D = build(args.arch, args.deconv)
    G.train(), D.train()
    flop, (FG, FG0, FD, FD0) = flop_per_iter(G, D, args.batch, args.g_batch, args.n_dis)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(args.beta1, args.beta2))
    data = [torch.rand(args.batch, 3, 32, 32) * 2 - 1 for _ in range(args.data_batches)]
    step, step_phases = make_step(args, G, D, opt_g, opt_d, data)

    print("torch %s (%s), python %s, threads %d (interop 1), oneDNN %s"
          % (torch.__version__, torch.__file__.rsplit("/", 2)[0], platform.python_version(),
             torch.get_num_threads(), torch.backends.mkldnn.is_available()))
    # torch 1.13 runs Conv2d through oneDNN but ConvTranspose2d (slow_conv_transpose2d) and
    # Linear through the system BLAS: with Debian's reference libblas3 these are ~10x slower
    # than with OpenBLAS. Say which one is loaded.
    print("BLAS loaded: %s" % blas_in_use())
    print("arch %s  loss %s  batch %d  g_batch %d  n_dis %d  adam lr %g betas (%g, %g)%s  autocast %s"
          % (args.arch, args.loss, args.batch, args.g_batch, args.n_dis, args.lr,
             args.beta1, args.beta2,
             "  deconv %s" % args.deconv if args.arch == "standard_cnn" else "", args.autocast))
    print("params: G %.2fM  D %.2fM;  forward MACs/image: G %.1fM  D %.1fM "
          "(no-input-grad layers: G %.2fM  D %.2fM)"
          % (sum(p.numel() for p in G.parameters()) / 1e6,
             sum(p.numel() for p in D.parameters()) / 1e6, FG / 1e6, FD / 1e6,
             FG0 / 1e6, FD0 / 1e6))
    print("FLOP per generator iteration: %.2f GFLOP" % (flop / 1e9))

    ph = Phases() if args.phases else None
    times, losses = [], None
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        losses = step_phases(ph) if ph else step()
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
            print("iter %d: %.1f ms  (loss_d %.4f loss_g %.4f)"
                  % (i - args.warmup, dt * 1e3, losses[0], losses[1]), flush=True)
        else:
            print("warmup %d: %.1f ms" % (i, dt * 1e3), flush=True)

    med = statistics.median(times)
    ips = args.n_dis * args.batch / med
    gflops = flop / 1e9 / med
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("median %.1f ms/iter (min %.1f, max %.1f over %d iters)"
          % (med * 1e3, min(times) * 1e3, max(times) * 1e3, len(times)))
    print("%.1f real images/s (n_dis*batch per iteration), %.1f GFLOP/s achieved, "
          "peak RSS %.1f MiB" % (ips, gflops, rss))
    if ph:
        meas = ph.per_iter[args.warmup:]
        total = sum(sum(d.values()) for d in meas) / len(meas)
        print("phase breakdown (mean ms per generator iteration, synchronous):")
        for n in Phases.NAMES:
            v = sum(d[n] for d in meas) / len(meas)
            print("  %-6s %9.1f ms  %5.1f%%" % (n, v * 1e3, 100 * v / total))
    print("RESULT impl=torch arch=%s precision=%s batch=%d n_dis=%d threads=%d ms_per_iter=%.2f "
          "images_per_s=%.2f gflop_per_iter=%.3f gflops=%.2f peak_rss_mb=%.1f"
          % (args.arch, "bf16" if args.autocast == "bf16" else "fp32", args.batch, args.n_dis,
             args.threads, med * 1e3, ips, flop / 1e9, gflops, rss))


if __name__ == "__main__":
    main()
