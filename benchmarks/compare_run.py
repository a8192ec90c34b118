"""One Python run of scripts/compare-lightning.sh, in a process of its own.

    python compare_run.py --impl lightning --batch-size 32
    python compare_run.py --impl torch --batch-size 1 --max-steps 3000

--impl lightning: the seed autoencoder as a LightningModule, trained by PyTorch Lightning's
    Trainer(max_epochs=1) with its defaults on (progress bar, logger, checkpointing, model summary);
    --max-steps adds max_steps.
--impl torch: the same model, optimizer and loss in a hand-written PyTorch loop.

Both read MNIST from the IDX files in $MNIST_DIR (else data/mnist), keep it in memory, and use the seed's loader
(torch DataLoader, no shuffle), Adam(lr=1e-3) and the mean squared error, with one intra-op thread. The run prints
one line in the format of the Java side (CompareRun):

    RUN impl=<impl> bs=<n> steps=<n> steps_per_s=<x> startup_s=<x> test_mse=<x> peak_rss_mb=<x> cpu_s=<x>

steps_per_s counts from the start of the first training step to the end of training; startup_s is from the start
of the process to the first training step; test_mse is the MSE over the 10,000 test images after training.
"""

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def process_start_epoch_seconds():
    """When this process started, in seconds since the epoch, from /proc (as Java's ProcessHandle does)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of the file; fields[0] is field 3
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    return boot + start_ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb():
    """Peak resident memory of this process (VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">u4")
    if magic != 2051:
        sys.exit(f"{path} is not an IDX image file (magic {magic})")
    pixels = np.frombuffer(data[16:], dtype=np.uint8).reshape(count, 1, rows, cols)
    # one float copy, divided in place (the seed's ToTensor: pixels / 255)
    return torch.from_numpy(pixels).float().div_(255.0)


def read_idx_labels(path):
    with open(path, "rb") as f:
        data = f.read()
    return torch.from_numpy(np.frombuffer(data[8:], dtype=np.uint8).astype(np.int64))


def mnist(usage):
    root = os.environ.get("MNIST_DIR", "data/mnist")
    prefix = "train" if usage == "train" else "t10k"
    images = os.path.join(root, f"{prefix}-images-idx3-ubyte")
    labels = os.path.join(root, f"{prefix}-labels-idx1-ubyte")
    for path in (images, labels):
        if not os.path.exists(path):
            sys.exit(f"MNIST file {path} not found: run scripts/fetch-mnist.sh or set MNIST_DIR")
    return TensorDataset(read_idx_images(images), read_idx_labels(labels))


def encoder():
    return nn.Sequential(nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 3))


def decoder():
    return nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 28 * 28))


def reconstruction_loss(enc, dec, batch):
    x, _ = batch
    x = x.view(x.size(0), -1)
    return nn.functional.mse_loss(dec(enc(x)), x)


def run_lightning(train_loader, test_loader, max_steps):
    import lightning as L

    class LitAutoEncoder(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.encoder = encoder()
            self.decoder = decoder()

        def training_step(self, batch, batch_idx):
            loss = reconstruction_loss(self.encoder, self.decoder, batch)
            self.log("train_loss", loss)
            return loss

        def test_step(self, batch, batch_idx):
            self.log("test_loss", reconstruction_loss(self.encoder, self.decoder, batch))

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    class StepClock(L.Callback):
        first = None
        first_epoch_s = None
        end = None

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if self.first is None:
                self.first = time.perf_counter()
                self.first_epoch_s = time.time()

        def on_train_end(self, trainer, pl_module):
            self.end = time.perf_counter()

    clock = StepClock()
    kwargs = {"max_steps": max_steps} if max_steps > 0 else {}
    trainer = L.Trainer(max_epochs=1, default_root_dir=tempfile.mkdtemp(prefix="compare-lightning-"),
                        callbacks=[clock], **kwargs)
    model = LitAutoEncoder()
    trainer.fit(model, train_loader)
    steps = trainer.global_step
    test_mse = trainer.test(model, test_loader, verbose=False)[0]["test_loss"]
    return steps, clock.end - clock.first, clock.first_epoch_s, test_mse


def run_torch(train_loader, test_loader, max_steps):
    enc, dec = encoder(), decoder()
    params = list(enc.parameters()) + list(dec.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    steps = 0
    first = first_epoch_s = None
    for batch in train_loader:
        if first is None:
            first = time.perf_counter()
            first_epoch_s = time.time()
        loss = reconstruction_loss(enc, dec, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
        if 0 < max_steps <= steps:
            break
    end = time.perf_counter()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in test_loader:
            n = batch[0].size(0)
            total += reconstruction_loss(enc, dec, batch).item() * n
            count += n
    return steps, end - first, first_epoch_s, total / count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["lightning", "torch"], required=True)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (default: one epoch)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    train_loader = DataLoader(mnist("train"), batch_size=args.batch_size, shuffle=False)
    test_loader = DataLoader(mnist("test"), batch_size=256, shuffle=False)
    run = run_lightning if args.impl == "lightning" else run_torch
    steps, train_s, first_epoch_s, test_mse = run(train_loader, test_loader, args.max_steps)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"RUN impl={args.impl} bs={args.batch_size} steps={steps} steps_per_s={steps / train_s:.2f} "
          f"startup_s={first_epoch_s - process_start_epoch_seconds():.3f} test_mse={test_mse:.5f} "
          f"peak_rss_mb={peak_rss_mb():.1f} cpu_s={usage.ru_utime + usage.ru_stime:.2f}", flush=True)


if __name__ == "__main__":
    main()
