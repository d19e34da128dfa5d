"""The same training run in PyTorch, for comparison with `symcnn train`.

    python benchmarks/train_torch.py [--epochs 15] [--batch 32] [--lr 0.05] [--seed 0]

Same architecture (derivations/digits_cnn.toml), same initial parameters (symcnn's seeded
init), same seeded stratified split and minibatch order, and torch.optim.SGD with the same
momentum (PyTorch's buf = mu buf + g, p -= lr buf is symcnn's v = mu v - lr g with v = -lr buf).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import symcnn

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    net = symcnn.load(ROOT / "derivations/digits_cnn.toml")
    model = net.compile()
    data = symcnn.load_data("digits", net.spec, seed=args.seed)
    start = time.perf_counter()
    ours = symcnn.train(model, data, epochs=args.epochs, batch=args.batch, lr=args.lr, seed=args.seed,
                        progress=False)
    ours_seconds = time.perf_counter() - start

    # symcnn.train draws its gradient-check noise from the same generator before the batches
    rng = np.random.default_rng(args.seed)
    rng.normal(size=data.X_train[:8].shape)
    weights = {k: torch.tensor(v, requires_grad=True) for k, v in model.init_params(args.seed).items()}
    optimizer = torch.optim.SGD(weights.values(), lr=args.lr, momentum=0.9)

    def logits(x):
        a = F.max_pool2d(torch.relu(F.conv2d(x, weights["W1"], weights["b1"], padding=1)), 2)
        return a.reshape(len(x), -1) @ weights["W3"] + weights["b3"]

    X = torch.tensor(data.X_train).reshape(-1, 1, 8, 8)
    y = torch.tensor(data.y_train)
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = rng.permutation(len(X))
        for first in range(0, len(order), args.batch):
            chosen = torch.tensor(order[first:first + args.batch])
            optimizer.zero_grad()
            F.cross_entropy(logits(X[chosen]), y[chosen]).backward()
            optimizer.step()
    torch_seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = logits(torch.tensor(data.X_test).reshape(-1, 1, 8, 8)).argmax(axis=1).numpy()
    torch_accuracy = float(np.mean(predicted == data.y_test))
    difference = max(float(np.abs(ours.params[k] - weights[k].detach().numpy()).max()) for k in weights)
    print(f"{args.epochs} epochs of batch {args.batch}, lr {args.lr}, momentum 0.9, seed {args.seed}")
    print(f"symcnn : test accuracy {ours.test_score:.4f}, training loop {ours_seconds:.2f} s")
    print(f"PyTorch: test accuracy {torch_accuracy:.4f}, training loop {torch_seconds:.2f} s")
    print(f"largest difference between the final parameters: {difference:.1e}")


if __name__ == "__main__":
    main()
