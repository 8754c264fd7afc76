#!/usr/bin/env python3
"""ResNet-20 (CIFAR) training throughput in plain PyTorch: the reference for train_bench.

    python3 bench/pytorch_resnet20.py [--activation relu|swish] [--depth 20] [--steps 30]
        [--warmup 5] [--channels-last] [--compile] [--threads N] [--seed 0]
        [--device cpu|cuda] [--bf16]

--bf16 runs forward under CUDA autocast to bfloat16, as the C++ worker does on a GPU. On CUDA
each step ends with a synchronisation so that the time is the GPU's, not the launch's.

Prints one JSON line on stdout, in the same format as build/cpu/bench/train_bench, so that
bench/resnet_throughput.sh can put both side by side; everything else goes to stderr.

The model is He et al. 2016's CIFAR ResNet with the parameter-free "option A" shortcut and must
stay identical to the C++ worker's model, or the comparison means nothing. Runs under torch
1.13 (Debian's python3-torch) and torch 2.x; --compile needs torch.compile (2.0 and later).

Exit codes: 0 ok, 2 bad arguments or --compile without torch.compile, 3 torch.compile failed.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH_SIZE = 128
NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)  # CIFAR-10
STAGE_WIDTHS = (16, 32, 64)


class Relu(nn.Module):
    def forward(self, x):
        return torch.relu(x)


class Swish(nn.Module):
    """x * sigmoid(beta * x) with a learnable beta per channel, initialised to 1."""

    def __init__(self, channels):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return x * torch.sigmoid(self.beta.view(1, -1, 1, 1) * x)


def make_activation(name, channels):
    if name == "relu":
        return Relu()
    if name == "swish":
        return Swish(channels)
    raise ValueError(f"unknown activation {name!r}")


def conv3x3(in_channels, out_channels, stride):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride, activation):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = make_activation(activation, out_channels)
        self.conv2 = conv3x3(out_channels, out_channels, 1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act2 = make_activation(activation, out_channels)  # applied after the addition
        self.subsample = stride != 1 or in_channels != out_channels
        # Option A: the shortcut has no parameters; it halves the resolution and fills the
        # new channels with zeros, split evenly on both sides of the existing ones.
        self.channel_padding = (out_channels - in_channels) // 2

    def shortcut(self, x):
        if not self.subsample:
            return x
        p = self.channel_padding
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))

    def forward(self, x):
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth, activation):
        super().__init__()
        blocks_per_stage = (depth - 2) // 6
        self.conv = conv3x3(IMAGE_SHAPE[0], STAGE_WIDTHS[0], 1)
        self.bn = nn.BatchNorm2d(STAGE_WIDTHS[0])
        self.act = make_activation(activation, STAGE_WIDTHS[0])
        blocks = []
        in_channels = STAGE_WIDTHS[0]
        for stage, width in enumerate(STAGE_WIDTHS):
            for index in range(blocks_per_stage):
                # Stages 2 and 3 halve the resolution in their first block.
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(BasicBlock(in_channels, width, stride, activation))
                in_channels = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(STAGE_WIDTHS[-1], NUM_CLASSES)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.blocks(self.act(self.bn(self.conv(x))))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activation", choices=("relu", "swish"), default="relu")
    parser.add_argument("--depth", type=int, default=20, help="6n+2: 20, 32, 44, 56, 110")
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before timing")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="wrap the model in torch.compile")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--bf16", action="store_true", help="CUDA autocast to bfloat16")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"error: --device {args.device} but CUDA is not available", file=sys.stderr)
        sys.exit(2)
    if args.bf16 and not args.device.startswith("cuda"):
        parser.error("--bf16 needs a CUDA --device")
    if args.depth < 8 or (args.depth - 2) % 6 != 0:
        parser.error(f"--depth must be 6n+2 with n >= 1, got {args.depth}")
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--steps and --threads must be at least 1, --warmup at least 0")
    if args.compile and args.warmup < 1:
        # Otherwise the first timed step would include compilation.
        parser.error("--compile needs --warmup of at least 1")
    if args.compile and not hasattr(torch, "compile"):
        print(f"error: --compile needs torch.compile, absent from torch {torch.__version__}",
              file=sys.stderr)
        sys.exit(2)
    return args


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = CifarResNet(args.depth, args.activation).to(device, memory_format=memory_format)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    step_model = torch.compile(model) if args.compile else model

    # One fixed batch, generated before timing so that only the training step is measured.
    images = torch.randn(BATCH_SIZE, *IMAGE_SHAPE, device=device).contiguous(
        memory_format=memory_format)
    labels = torch.randint(0, NUM_CLASSES, (BATCH_SIZE,), dtype=torch.int64, device=device)

    # torch 1.13 checks bf16 support on the GPU even for a disabled CUDA autocast, and fails on a
    # CPU-only build: enter autocast only when asked.
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if args.bf16 \
        else contextlib.nullcontext

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = F.cross_entropy(step_model(images), labels)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for step in range(args.warmup):
        print(f"warmup step {step + 1}/{args.warmup}", file=sys.stderr)
        try:
            train_step()
        except Exception as error:  # torch.compile raises its failures lazily, on first use
            if not args.compile:
                raise
            print(f"error: torch.compile failed: {type(error).__name__}: {error}",
                  file=sys.stderr)
            sys.exit(3)

    step_seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        train_step()
        step_seconds.append(time.perf_counter() - start)
    median_seconds = statistics.median(step_seconds)

    print(json.dumps({
        "impl": "pytorch compile" if args.compile else "pytorch eager",
        "torch": torch.__version__,
        "activation": args.activation,
        "depth": args.depth,
        "batch": BATCH_SIZE,
        "channels_last": args.channels_last,
        "threads": args.threads,
        "device": args.device,
        "bf16": args.bf16,
        "median_step_ms": round(median_seconds * 1e3, 2),
        "images_per_second": round(BATCH_SIZE / median_seconds, 1),
        "steps": args.steps,
    }), flush=True)


if __name__ == "__main__":
    main()
