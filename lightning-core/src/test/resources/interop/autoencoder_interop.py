"""PyTorch side of the djl-lightning interop test.

Builds the seed autoencoder with the same structure as the Java block (children ``encoder`` and ``decoder``, each an
``nn.Sequential`` of Linear, ReLU, Linear) and either

  load   WEIGHTS INPUT OUTPUT       loads WEIGHTS (exported from Java) with ``load_state_dict(strict=True)``, or
  export SEED WEIGHTS INPUT OUTPUT  initializes the module randomly from SEED and saves its state dict to WEIGHTS,

then runs the ``input`` tensor of INPUT through the module and saves the result as ``output`` in OUTPUT.
"""

import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn


class LitAutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 28 * 28))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def run(model, input_file, output_file):
    x = load_file(input_file)["input"]
    model.eval()
    with torch.no_grad():
        y = model(x)
    save_file({"output": y.contiguous()}, output_file)


def load(weights_file, input_file, output_file):
    with safe_open(weights_file, framework="pt") as f:
        metadata = f.metadata() or {}
    if metadata.get("format") != "pt":
        raise SystemExit(f"{weights_file}: __metadata__ is {metadata}, expected format 'pt'")
    state = load_file(weights_file)
    for name, tensor in state.items():
        if tensor.dtype != torch.float32:
            raise SystemExit(f"{weights_file}: {name} is {tensor.dtype}, expected torch.float32")
    model = LitAutoEncoder()
    model.load_state_dict(state, strict=True)
    run(model, input_file, output_file)
    print(f"loaded {len(state)} tensors with strict=True: {sorted(state)}")


def export(seed, weights_file, input_file, output_file):
    torch.manual_seed(seed)
    model = LitAutoEncoder()
    save_file(model.state_dict(), weights_file, metadata={"format": "pt"})
    run(model, input_file, output_file)
    print(f"saved {len(model.state_dict())} tensors: {list(model.state_dict())}")


def main(argv):
    print(f"torch {torch.__version__}")
    if len(argv) == 4 and argv[0] == "load":
        load(*argv[1:])
    elif len(argv) == 5 and argv[0] == "export":
        export(int(argv[1]), *argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1:])
