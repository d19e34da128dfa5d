"""Verifying hand derivations: right, wrong (with the mistake named) and unreadable answers,
in many notations, for seven networks; the command line's exit codes, text and JSON."""

import json
import re
import subprocess
import sys

import pytest
import sympy

import symcnn
from symcnn.verify import to_json, verify
from conftest import DERIVATIONS

ANSWERS = DERIVATIONS / "answers"
RIGHT, WRONG = "correct", "wrong"

NETWORKS = {
    "seed": DERIVATIONS / "seed_1d.toml",
    "pool_softmax": DERIVATIONS / "pool_softmax.toml",
    "seed_bias": {"input": [5], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "padding": 1, "activation": "relu"}, {"type": "dense", "units": 1}]},
    "dense": {"input": [3], "loss": "squared", "layers": [
        {"type": "dense", "units": 2, "activation": "relu"}, {"type": "dense", "units": 1, "bias": False}]},
    "softmax": {"input": [3], "loss": "cross_entropy", "layers": [
        {"type": "dense", "units": 2, "activation": "tanh"}, {"type": "dense", "units": 3}]},
    "conv2d": {"input": [3, 3], "loss": "squared", "layers": [
        {"type": "conv", "size": 2, "padding": 1, "bias": False, "activation": "relu"},
        {"type": "dense", "units": 1, "bias": False}]},
    "pool": {"input": [4], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "padding": 1, "bias": False, "activation": "relu"},
        {"type": "maxpool", "size": 2}, {"type": "dense", "units": 1, "bias": False}]},
    "stride": {"input": [7], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "stride": 2, "padding": 1, "bias": False, "activation": "relu"},
        {"type": "dense", "units": 1, "bias": False}]},
    "sigmoid": {"input": [4], "loss": "squared", "layers": [
        {"type": "conv", "size": 2, "bias": False, "activation": "sigmoid"}, {"type": "dense", "units": 1, "bias": False}]},
    # a dense layer of two units: W^2 is a 3 x 2 matrix, as on the slides
    "two_units": {"input": [5], "loss": "squared", "layers": [
        {"type": "conv", "size": 3, "stride": 2, "padding": 1, "bias": False, "activation": "relu"},
        {"type": "dense", "units": 2, "bias": False}]},
}


@pytest.fixture(scope="module")
def nets():
    return {k: symcnn.load(v) if not isinstance(v, dict) else symcnn.Network(v) for k, v in NETWORKS.items()}


# (network, --wrt, --of, answer, verdict, mistake key or None): each line derived by hand
TABLE = [
    # the seed: index notation, sums with and without ranges, every left-hand side
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", RIGHT, None),
    ("seed", "W1", "L", r"\frac{dL}{dW^1_k} = 2(A^2-y)\sum_i W^2_i X_{i+k-2} \mathbf{1}\{Z^1_i > 0\}", RIGHT, None),
    ("seed", None, "L", r"\partial L/\partial W^1_k = \sum_{i} 2\bigl(A^2 - y\bigr) W^2_{i} \mathbb{1}_{Z^1_{i} > 0} X_{k+i-2}", RIGHT, None),
    ("seed", None, "L", r"\nabla_{W^1}\text{loss} = \frac{\partial Z^1}{\partial W^1}\frac{\partial A^1}{\partial Z^1}\frac{\partial L}{\partial A^1}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \frac{\partial Z^1}{\partial W^1} \operatorname{diag}(\mathbb{1}[Z^1 > 0]) \cdot 2(A^2 - y) W^2", RIGHT, None),
    # the single-entry rule: A^2 (one entry) is also written A^2_1, on the left and on the right
    ("seed", None, None, r"\frac{\partial L}{\partial A^2_1} = 2(A^2_1 - y_1)", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial A^2_1} = (A^2_1 - y_1)", WRONG, "factor-2-missing"),
    ("seed", None, None, r"A^2_1 = \sum_{i=1}^{5} W^2_i A^1_i", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(y-A^2)W^2_i", WRONG, "sign"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,(A^2-y)W^2_i", WRONG, "factor-2-missing"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,2(A^2-y)W^2_i", WRONG, "activation-derivative-dropped"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-1}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", WRONG, "index-shifted"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i-k+2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", WRONG, "filter-flipped"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=2}^{4} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", WRONG, "padding-dropped"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = X_{k+1}\,\mathbb{1}[Z^1_3>0]\,2(A^2-y)W^2_3", WRONG, "sum-over-positions-missing"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^1_i", WRONG, "wrong-layer-weights"),
    ("seed", None, "Z1", r"\frac{\partial Z^1_i}{\partial W^1_k} = X_{i+k-2}", RIGHT, None),
    ("seed", None, "Z1", r"\frac{\partial Z^1_i}{\partial W^1_k} = X_{i+k-1}", WRONG, None),
    ("seed", None, "L", r"\frac{\partial A^1_i}{\partial Z^1_j} = \mathbb{1}[Z^1_i > 0]\,\delta_{ij}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial A^1}{\partial Z^1} = \operatorname{diag}(\mathbb{1}[Z^1_1 > 0], \mathbb{1}[Z^1_2 > 0], "
                        r"\mathbb{1}[Z^1_3 > 0], \mathbb{1}[Z^1_4 > 0], \mathbb{1}[Z^1_5 > 0])", RIGHT, None),
    ("seed", None, "L", r"Z^1_i = \sum_{k=1}^{3} W^1_k X_{i+k-2}", RIGHT, None),
    ("seed", None, "L", r"Z^1_i = \sum_{k=1}^{3} W^1_k X_{i+k-1}", WRONG, None),
    # the false accepts: a generic entry without braces is one token, never a whole column
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y)A^1_j", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y)A^1_jW^2_j", WRONG, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_3} = 2(A^2-y)A^1_3X_3", WRONG, None),
    ("seed", "W2", "L", r"2(A^2-y)A^1", RIGHT, None),
    ("seed", "W2", "L", r"2(A^2-y)A^1_3", WRONG, None),
    # issue 20: a \sum_{i=1}^{5} inside each row of a bmatrix (multiplied by a scalar, so latex2sympy2 evaluates the sums)
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = 2(A^2-y)\begin{bmatrix} \sum_{i=1}^{5} X_{i-1} \mathbb{1}[Z^1_i>0] W^2_i \\ "
                        r"\sum_{i=1}^{5} X_{i} \mathbb{1}[Z^1_i>0] W^2_i \\ \sum_{i=1}^{5} X_{i+1} \mathbb{1}[Z^1_i>0] W^2_i \end{bmatrix}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \begin{bmatrix} \sum_{i} X_{i-1} \mathbb{1}[Z^1_i>0] W^2_i \\ "
                        r"\sum_{i} X_{i} \mathbb{1}[Z^1_i>0] W^2_i \\ \sum_{i} X_{i+1} \mathbb{1}[Z^1_i>0] W^2_i \end{bmatrix} 2(A^2-y)", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = 2(A^2-y)\begin{bmatrix} \sum_{i=1}^{5} X_{i} \mathbb{1}[Z^1_i>0] W^2_i \\ "
                        r"\sum_{i=1}^{5} X_{i+1} \mathbb{1}[Z^1_i>0] W^2_i \\ \sum_{i=1}^{5} X_{i+2} \mathbb{1}[Z^1_i>0] W^2_i \end{bmatrix}", WRONG, "index-shifted"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = A^1_j (2) (A^2 - y)", RIGHT, None),
    # issue 20: the range of the free index stated after a comma
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, \quad k = 1, 2, 3", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-1}, \quad k = 1, 2, 3", WRONG, "index-shifted"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2} \quad \text{for } k = 1, \ldots, 3", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2},\ k \in \{1, 2, 3\}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, \quad 1 \le k \le 3", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, \quad k = 1, 2", WRONG, None),
    # issue 20: another quantity than the one asked, the chain rule in reversed order: wrong, not unreadable
    ("seed", "W1", "L", r"\frac{\partial L}{\partial W^2} = 2(A^2-y)A^1", WRONG, "wrong-quantity"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \frac{\partial L}{\partial A^1} \frac{\partial A^1}{\partial Z^1} \frac{\partial Z^1}{\partial W^1}", WRONG, "chain-reversed"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = 2(A^2 - y) W^2 \operatorname{diag}(\mathbb{1}[Z^1 > 0]) \frac{\partial Z^1}{\partial W^1}", WRONG, "chain-reversed"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \frac{\partial Z^1}{\partial W^1} \operatorname{diag}(\mathbb{1}[Z^1 > 0]) W^2 \, 2(A^2 - y)", RIGHT, None),
    # chains of equalities in align: each step checked, the first wrong one named
    ("seed", None, "L", r"\begin{align*} \frac{\partial L}{\partial W^2_j} &= \frac{\partial L}{\partial A^2}\frac{\partial A^2}{\partial W^2_j}"
                        r" \\ &= 2(A^2 - y) A^1_j \end{align*}", RIGHT, None),
    ("seed", None, "L", r"\begin{align} \frac{\partial L}{\partial W^2_j} &= 2(A^2 - y) A^1_j \\ &= 2(A^2 - y) Z^1_j \end{align}", WRONG, None),
    # seed with bias
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^1_0} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0]", RIGHT, None),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^2_0} = 2(A^2-y)", RIGHT, None),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^2_0} = 2(y-A^2)", WRONG, "sign"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^1_0} = 2(A^2-y) W^2_3 \mathbb{1}[Z^1_3>0]", WRONG, "sum-over-positions-missing"),
    # dense only: the gradient in W's own shape (inputs x outputs), its transpose, index form
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i \mathbb{1}[Z^1_j > 0] W^2_j \cdot 2(A^2 - y)", RIGHT, None),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{ij}} = X_j \mathbb{1}[Z^1_i > 0] W^2_i \cdot 2(A^2 - y)", WRONG, None),
    ("dense", "W1", "L", r"2(A^2-y)\begin{bmatrix} X_1 \mathbb{1}[Z^1_1>0] W^2_1 & X_1 \mathbb{1}[Z^1_2>0] W^2_2 \\ X_2 \mathbb{1}[Z^1_1>0] W^2_1 & "
                         r"X_2 \mathbb{1}[Z^1_2>0] W^2_2 \\ X_3 \mathbb{1}[Z^1_1>0] W^2_1 & X_3 \mathbb{1}[Z^1_2>0] W^2_2 \end{bmatrix}", RIGHT, None),
    ("dense", "W1", "L", r"2(A^2-y)\begin{bmatrix} X_1 \mathbb{1}[Z^1_1>0] W^2_1 & X_2 \mathbb{1}[Z^1_1>0] W^2_1 & X_3 \mathbb{1}[Z^1_1>0] W^2_1 \\ "
                         r"X_1 \mathbb{1}[Z^1_2>0] W^2_2 & X_2 \mathbb{1}[Z^1_2>0] W^2_2 & X_3 \mathbb{1}[Z^1_2>0] W^2_2 \end{bmatrix}", WRONG, "transposed"),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{0,j}} = \mathbb{1}[Z^1_j > 0] W^2_j \cdot 2(A^2 - y)", RIGHT, None),
    ("dense", None, "L", r"\frac{\partial L}{\partial A^1} = 2(A^2 - y) W^2", RIGHT, None),
    ("dense", None, "L", r"\frac{\partial L}{\partial A^1} = 2(A^2 - y) W^1_{1,1}", WRONG, None),
    # softmax output: the course's A^L = softmax(Z^L), symcnn's logits, sech^2, sigma-free tanh
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = A^2_k - y_k", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \text{softmax}(Z^2)_k - y_k", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \frac{e^{Z^2_k}}{\sum_{m} e^{Z^2_m}} - y_k", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \hat{y}_k - y_k", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = y_k - A^2_k", WRONG, "softmax-sign"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = Z^2_k - y_k", WRONG, "softmax-missing"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^2_{j,k}} = A^1_j (A^2_k - y_k)", RIGHT, None),
    # the course's factors of delta^L: dloss/dA^L = -y/A^L and dA^L/dZ^L = diag(A^L) - A^L (A^L)^T
    ("softmax", None, "L", r"\frac{\partial L}{\partial A^2_k} = -\frac{y_k}{A^2_k}", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial A^2_k} = A^2_k - y_k", WRONG, None),  # that is delta^2
    ("softmax", None, "A2", r"\frac{\partial A^2_j}{\partial Z^2_k} = A^2_j (\delta_{jk} - A^2_k)", RIGHT, None),
    ("softmax", None, "A2", r"\frac{\partial A^2_j}{\partial Z^2_k} = \delta_{jk}", WRONG, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i (1 - (A^1_j)^2) \sum_k W^2_{j,k} (A^2_k - y_k)", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i \operatorname{sech}^2(Z^1_j) \sum_{k=1}^{3} W^2_{j,k} (\hat y_k - y_k)", RIGHT, None),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i \tanh'(A^1_j) \sum_k W^2_{j,k} (A^2_k - y_k)", WRONG, "derivative-at-A"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i \sum_k W^2_{j,k} (A^2_k - y_k)", WRONG, "activation-derivative-dropped"),
    # 2D convolution: two indices, the flattened dense weights written with index arithmetic
    ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{a,b}} = \sum_{i=1}^{4}\sum_{j=1}^{4} X_{i+a-2,j+b-2} \mathbb{1}[Z^1_{i,j} > 0] W^2_{4(i-1)+j} 2(A^2-y)", RIGHT, None),
    ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{a,b}} = \sum_{i,j} X_{i-a+1,j-b+1} \mathbb{1}[Z^1_{i,j} > 0] W^2_{4(i-1)+j} 2(A^2-y)", WRONG, "filter-flipped"),
    ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{a,b}} = \sum_{i,j} X_{i+a-1,j+b-2} \mathbb{1}[Z^1_{i,j} > 0] W^2_{4(i-1)+j} 2(A^2-y)", WRONG, "index-shifted"),
    ("conv2d", None, "L", r"\frac{\partial Z^1_{i,j}}{\partial W^1_{a,b}} = X_{i+a-2,j+b-2}", RIGHT, None),
    # pooling: the gradient goes to the first maximum of each window
    ("pool", None, "L", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) A^2_m", RIGHT, None),
    ("pool", "A1", "L", r"2(A^3-y)\begin{bmatrix} W^3_1 \mathbb{1}[A^1_1 \geq A^1_2] \\ W^3_1 \mathbb{1}[A^1_2 > A^1_1] \\ "
                        r"W^3_2 \mathbb{1}[A^1_3 \geq A^1_4] \\ W^3_2 \mathbb{1}[A^1_4 > A^1_3] \end{bmatrix}", RIGHT, None),
    ("pool", "A1", "L", r"2(A^3-y)\begin{bmatrix} W^3_1 \\ W^3_1 \\ W^3_2 \\ W^3_2 \end{bmatrix}", WRONG, None),
    # issue 20: the argmax written as an equality, read with the course's tie rule (see test_argmax_as_an_equality)
    ("pool", "A1", "L", r"2(A^3-y)\begin{bmatrix} W^3_1 \mathbb{1}[A^1_1 = \max(A^1_1, A^1_2)] \\ W^3_1 \mathbb{1}[A^1_2 = \max(A^1_1, A^1_2)] \\ "
                        r"W^3_2 \mathbb{1}[A^1_3 = \max(A^1_3, A^1_4)] \\ W^3_2 \mathbb{1}[A^1_4 = \max(A^1_3, A^1_4)] \end{bmatrix}", RIGHT, None),
    ("pool", "A1", "L", r"2(A^3-y)\begin{bmatrix} W^3_1 \mathbb{1}[A^1_2 = \max(A^1_1, A^1_2)] \\ W^3_1 \mathbb{1}[A^1_1 = \max(A^1_1, A^1_2)] \\ "
                        r"W^3_2 \mathbb{1}[A^1_3 = \max(A^1_3, A^1_4)] \\ W^3_2 \mathbb{1}[A^1_4 = \max(A^1_3, A^1_4)] \end{bmatrix}", WRONG, None),
    # stride 2: the window of Z^1_i starts at X_{2i-2}
    ("stride", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{4} X_{2i+k-3}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", RIGHT, None),
    ("stride", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} X_{2(i-1)+k-1}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", RIGHT, None),
    ("stride", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{4} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", WRONG, None),
    # a whole forward rule is a column (its rows were once read as one row: only Z^1_1 was checked)
    ("seed", None, "L", r"Z^1 = \begin{bmatrix} W^1_1 X_0 + W^1_2 X_1 + W^1_3 X_2 \\ W^1_1 X_1 + W^1_2 X_2 + W^1_3 X_3 \\ "
                        r"W^1_1 X_2 + W^1_2 X_3 + W^1_3 X_4 \\ W^1_1 X_3 + W^1_2 X_4 + W^1_3 X_5 \\ W^1_1 X_4 + W^1_2 X_5 + W^1_3 X_6 \end{bmatrix}", RIGHT, None),
    ("seed", None, "L", r"Z^1 = \begin{bmatrix} W^1_1 X_0 + W^1_2 X_1 + W^1_3 X_2 \\ W^1_1 X_1 + W^1_2 X_2 + W^1_3 X_3 \\ "
                        r"W^1_1 X_2 + W^1_2 X_3 + W^1_3 X_4 \\ W^1_1 X_3 + W^1_2 X_4 + W^1_3 X_5 \\ W^1_1 X_4 + W^1_3 X_6 \end{bmatrix}", WRONG, None),
    ("seed", None, "L", r"Z^1 = \begin{bmatrix} W^1_1 X_0 + W^1_2 X_1 + W^1_3 X_2 & 0 & 0 & 0 & 0 \end{bmatrix}", WRONG, None),
    # a dense layer after pooling reads vec(A^2), as the notes print it
    ("pool_softmax", None, "L", r"\frac{\partial L}{\partial W^3_{i,j}} = \operatorname{vec}\left(A^{2}\right)_{i} \delta^{3}_{j}", RIGHT, None),
    ("pool_softmax", None, "L", r"\frac{\partial L}{\partial W^3_{i,j}} = \mathrm{vec}(A^2)_{i} (A^3_j - y_j)", RIGHT, None),
    ("pool_softmax", None, "L", r"\frac{\partial L}{\partial W^3_{i,j}} = \operatorname{vec}(A^2)_{i+1} \delta^3_j", WRONG, None),
    ("pool_softmax", None, "L", r"Z^{3}_{j} = \sum_{i=1}^{8} W^{3}_{i,j} \operatorname{vec}\left(A^{2}\right)_{i} + W^{3}_{0,j}", RIGHT, None),
    ("pool_softmax", None, "L", r"Z^{3}_{j} = \sum_{i=1}^{8} W^{3}_{i,j} \operatorname{vec}(A^2)_{i}", WRONG, None),
    # sigmoid: sigma'(Z) in its spellings, at A instead of Z, dropped
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{3} X_{i+k-1} A^1_i (1 - A^1_i) W^2_i \, 2(A^2-y)", RIGHT, None),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} X_{i+k-1} \sigma'(Z^1_i) W^2_i \, 2(A^2-y)", RIGHT, None),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} X_{i+k-1} \sigma(Z^1_i)(1-\sigma(Z^1_i)) W^2_i \, 2(A^2-y)", RIGHT, None),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} X_{i+k-1} \sigma'(A^1_i) W^2_i \, 2(A^2-y)", WRONG, "derivative-at-A"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i} X_{i+k-1} W^2_i \, 2(A^2-y)", WRONG, "activation-derivative-dropped"),
    # a sum past a tensor's entries is a wrong range, not padding (W^2_0 is the dense bias where there is one)
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=0}^{6} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}", WRONG, "sum-range"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=0}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}", WRONG, "sum-range"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial X_m} = \sum_{i=1}^{5} W^1_{m-i+2} \mathbb{1}[Z^1_i>0] 2(A^2-y) W^2_i", RIGHT, None),
    # every spelling of the step function, Iverson's bracket, sgn; derived by hand as 1[Z^1_i > 0]
    *[("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i " + step + r" X_{i+k-2}", verdict, None)
      for step, verdict in [(r"H(Z^1_i)", RIGHT), (r"\theta(Z^1_i)", RIGHT), (r"\Theta\left(Z^1_i\right)", RIGHT),
                            (r"u(Z^1_i)", RIGHT), (r"\operatorname{H}(Z^1_i)", RIGHT), (r"\left[Z^1_i > 0\right]", RIGHT),
                            (r"[Z^1_i > 0]", RIGHT), (r"1_{\{Z^1_i > 0\}}", RIGHT), (r"\chi_{\{Z^1_i > 0\}}", RIGHT),
                            (r"\frac{1 + \operatorname{sgn}(Z^1_i)}{2}", RIGHT), (r"\operatorname{sgn}(Z^1_i)", WRONG),
                            (r"[Z^1_i < 0]", WRONG), (r"H(-Z^1_i)", WRONG), (r"[A^1_i > 0]", RIGHT)]],
    # a letter the answer binds is its index, never the step u(z): here u (Z^1_u), a product
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{u=1}^{5} 2(A^2-y) W^2_u u(Z^1_u) X_{u+k-2}", WRONG, None),
    # g for the activation, as f; a note stating the padding, checked
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i g'(Z^1_i) X_{i+k-2}", RIGHT, None),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, "
                        r"\quad \text{where } X_0 = X_6 = 0", RIGHT, None),
    # a sum over the left-hand side's own index (its value does not depend on it)
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_i} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{2i-2}", WRONG, "sum-letter"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_i} = \sum_{i=1}^{5} 2(A^2-y) A^1_i", WRONG, "sum-letter"),
    # Kronecker's delta with a computed index; the bias written b^l; the loss written E or J
    ("seed", None, None, r"\frac{\partial Z^1_i}{\partial X_j} = \sum_{k=1}^{3} W^1_k \delta_{j,\,i+k-2}", RIGHT, None),
    ("seed", None, None, r"\frac{\partial Z^1_i}{\partial X_j} = \sum_{k=1}^{3} W^1_k \delta_{j,i+k-1}", WRONG, None),
    ("pool_softmax", None, None, r"\frac{\partial L}{\partial b^3_j} = A^3_j - y_j", RIGHT, None),
    ("pool_softmax", None, None, r"\frac{\partial L}{\partial b^3_j} = \delta^3_j + b^3_j", WRONG, None),
    ("seed", None, None, r"\frac{\partial E}{\partial W^2_j} = 2(A^2 - y) A^1_j", RIGHT, None),
    ("seed", None, None, r"\frac{\partial J}{\partial W^2_j} = (A^2 - y) A^1_j", WRONG, "factor-2-missing"),
    # the derivative as an operator before what it differentiates
    ("seed", None, None, r"\frac{\partial}{\partial W^1_k} L = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}", RIGHT, None),
    ("seed", None, None, r"\partial_{W^1_k} L = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}", RIGHT, None),
    ("seed", None, None, r"\frac{d}{dW^1_k}\left(L\right) = \sum_{i=1}^{5} 2(A^2-y) W^2_i X_{i+k-2}", WRONG, "activation-derivative-dropped"),
    ("seed", None, None, r"\frac{\partial L}{\partial W^2_j} = \frac{\partial}{\partial A^2} L \, \partial_{W^2_j} A^2", RIGHT, None),
    # names the answer gives a formula: a line of its own (before or after its use), a clause,
    # with indices; read as what they stand for, so their mistakes are the steps' mistakes
    ("seed", None, None, r"e = A^2 - y \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2 e W^2_i u(Z^1_i) X_{i+k-2}", RIGHT, None),
    ("seed", None, None, r"e := A^2 - y \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} e W^2_i u(Z^1_i) X_{i+k-2}", WRONG, "factor-2-missing"),
    ("seed", None, None, r"\frac{\partial L}{\partial W^2_j} = 2 \varepsilon A^1_j \\ \varepsilon = A^2 - y", RIGHT, None),
    ("seed", None, None, r"e = A^2 + y \\ \frac{\partial L}{\partial W^2_j} = 2 e A^1_j", WRONG, None),
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{j=1}^{5} g_j X_{j+k-2} \quad \text{where } g_i = 2(A^2-y) W^2_i u(Z^1_i)", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{j=1}^{5} 2 r W^2_j u(Z^1_j) X_{j+k-2}, \quad \text{with } r = A^2 - y \text{ and } k = 1, 2, 3", RIGHT, None),
    ("seed", None, None, r"\delta_i = 2(A^2-y) W^2_i u(Z^1_i) \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} \delta_i X_{i+k-1}", WRONG, "index-shifted"),
    ("seed", None, None, r"s_i = \sum_{j=1}^{3} W^1_j X_{i+j-2} \\ Z^1_k = s_k", RIGHT, None),
    ("conv2d", None, None, r"s_{ij} = \sum_{a,b=1}^{2} W^1_{ab} X_{i+a-2,j+b-2} \\ Z^1_{ij} = s_{i,j}", RIGHT, None),
    ("conv2d", None, None, r"s_{ij} = \sum_{a,b=1}^{2} W^1_{ab} X_{i+a-2,j+b-2} \\ Z^1_{ij} = s_{ji}", WRONG, None),
    ("two_units", None, None, r"g = W^2 \delta^2 \\ \delta^1 = \mathbb{1}[Z^1 > 0] \odot g", RIGHT, None),
    # names read in the order their formulas need, whatever order they are written in; a name's
    # sums renamed where the step sums over the same letter
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} g_i X_{i+k-2} \\ g_i = 2 e W^2_i u(Z^1_i) \\ e = A^2 - y", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} g_i X_{i+k-2} \\ g_i = 2 e W^2_i u(Z^1_i) \\ e = A^2 + y", WRONG, None),
    ("seed", None, None, r"p = \sum_{i=1}^{5} W^2_i A^1_i \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(p-y) W^2_i u(Z^1_i) X_{i+k-2}", RIGHT, None),
    ("seed", None, None, r"p = \sum_{i=1}^{5} W^2_i A^1_i \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(p+y) W^2_i u(Z^1_i) X_{i+k-2}", WRONG, None),
    ("seed", None, None, r"s_i = \sum_{j=1}^{3} W^1_j X_{i+j-2} \\ Z^1_j = s_j", RIGHT, None),
    ("seed", None, None, r"s_i = \sum_{j=1}^{3} W^1_j X_{i+j-2} \\ Z^1_j = s_{j+1}", WRONG, None),
    # a sum's limits depending on the left-hand side's index, \max and \min among them (the
    # transposed convolution); each value of the index must keep the sum within the tensor
    ("seed", None, None, r"\frac{\partial L}{\partial X_j} = \sum_{k=\max(1, j-3)}^{\min(3, j+1)} 2(A^2-y) W^2_{j-k+2} u(Z^1_{j-k+2}) W^1_k", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial X_j} = \sum_{k=\max\left(1, j\right)}^{\min(3, j+1)} 2(A^2-y) W^2_{j-k+2} u(Z^1_{j-k+2}) W^1_k", WRONG, None),
    ("seed", None, None, r"\frac{\partial L}{\partial X_j} = \sum_{k=j-3}^{j+1} 2(A^2-y) W^2_{j-k+2} u(Z^1_{j-k+2}) W^1_k", WRONG, "sum-range"),
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{m=k-1}^{k+3} 2(A^2-y) W^2_{m-k+2} u(Z^1_{m-k+2}) X_m", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial W^1_k} = \sum_{m=k}^{k+4} 2(A^2-y) W^2_{m-k+2} u(Z^1_{m-k+2}) X_m", WRONG, None),
    # an inner sum's limits depending on an outer sum's variable, taken at each of its values
    ("seed", None, None, r"A^2 = \sum_{m=1}^{1} \sum_{i=m}^{m+4} W^2_i A^1_i", RIGHT, None),
    ("seed", None, None, r"A^2 = \sum_{i=1}^{5} W^2_i A^1_i + \sum_{m=1}^{1} \sum_{i=m}^{m+5} W^2_i A^1_i - \sum_{i=1}^{5} W^2_i A^1_i", WRONG, "sum-range"),
    # facts about a function of one variable on the way, each checked: a false one makes the answer wrong
    ("sigmoid", None, None, r"\sigma'(z) = \sigma(z)(1-\sigma(z)) \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", RIGHT, None),
    ("sigmoid", None, None, r"\sigma'(z) = \sigma(z)(1+\sigma(z)) \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", WRONG, None),
    ("seed", None, None, r"\operatorname{ReLU}'(x) = \mathbb{1}[x > 0] \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \operatorname{ReLU}'(Z^1_i) X_{i+k-2}", RIGHT, None),
    ("seed", None, None, r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j \\ u(z) = \mathbb{1}[z < 0]", WRONG, None),
    ("seed", None, None, r"\tanh'(t) = 1 - \tanh^2(t) \\ \frac{\partial L}{\partial W^2_j} = (A^2-y) A^1_j", WRONG, "factor-2-missing"),
    ("sigmoid", None, None, r"\frac{d}{dz}\sigma(z) = \sigma(z)(1-\sigma(z)) \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", RIGHT, None),
    ("sigmoid", None, None, r"\frac{d \sigma(z)}{dz} = \sigma(z)(1+\sigma(z)) \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", WRONG, None),
    ("seed", None, None, r"\frac{\partial}{\partial z} \max(0, z) = \mathbb{1}[z > 0] \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", RIGHT, None),
    ("seed", None, None, r"\operatorname{ReLU}'(z) = \mathbb{1}[z > 0.2] \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", WRONG, None),
    ("seed", None, None, r"\frac{1}{2z+1} = \frac{2}{4z+2} \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", RIGHT, None),
    ("seed", None, None, r"\sqrt{z} = z \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", WRONG, None),
    # an entrywise product in parentheses, one factor of a matrix product
    ("dense", None, None, r"\frac{\partial L}{\partial A^0} = W^1 (\mathbb{1}[Z^1 > 0] \odot W^2 \delta^2)", RIGHT, None),
    ("dense", None, None, r"\frac{\partial L}{\partial W^1} = A^0 \left(\mathbb{1}[Z^1 > 0] \odot W^2 \delta^2\right)^T", RIGHT, None),
    ("dense", None, None, r"\frac{\partial L}{\partial A^0} = W^1 \left[\mathbb{1}[Z^1 > 0] \odot W^2 (A^2 - y)\right]", WRONG, "factor-2-missing"),
    # two letters sharing one range under one sum
    ("conv2d", None, None, r"Z^1_{ij} = \sum_{a,b=1}^{2} W^1_{ab} X_{i+a-2,j+b-2}", RIGHT, None),
    ("conv2d", None, None, r"Z^1_{ij} = \sum_{a,b=1}^{3} W^1_{ab} X_{i+a-2,j+b-2}", WRONG, "sum-range"),
    # a dense layer of two units in the slides' matrix forms: W^2 is its matrix, not its column
    ("two_units", None, None, r"\frac{\partial Z^2}{\partial A^1} = W^2", RIGHT, None),
    ("two_units", None, None, r"\frac{\partial Z^2}{\partial A^1} = (W^2)^T", WRONG, "transposed"),
    ("two_units", None, None, r"A^{2} = \left(W^{2}\right)^\top A^{1}", RIGHT, None),
    ("two_units", None, None, r"\frac{\partial L}{\partial A^1} = W^2 \delta^2", RIGHT, None),
    ("two_units", None, None, r"\frac{\partial L}{\partial W^2} = A^1 (\delta^2)^T", RIGHT, None),
    ("two_units", None, None, r"\frac{\partial L}{\partial W^2} = \delta^2 (A^1)^T", WRONG, "transposed"),
    ("two_units", None, None, r"\delta^{1} = \frac{\partial \operatorname{loss}}{\partial Z^{1}} = \operatorname{ReLU}'\left(Z^{1}\right) \odot W^{2} \delta^{2}", RIGHT, None),
    ("two_units", None, None, r"\delta^1 = \mathbb{1}[Z^1 > 0] \odot \left(W^2 \cdot 2 (A^2 - y)\right)", RIGHT, None),
    ("two_units", None, None, r"\delta^1 = \mathbb{1}[Z^1 > 0] \odot W^2 (A^2 - y)", WRONG, "factor-2-missing"),
]


TABLE_BY_NOTE = {"argmax": next(t[3] for t in TABLE if r"\mathbb{1}[A^1_1 = \max" in t[3])}


@pytest.mark.parametrize("network, wrt, of, answer, verdict, mistake", TABLE, ids=[f"{t[0]}:{t[3][:50]}" for t in TABLE])
def test_verdicts_and_mistakes(nets, network, wrt, of, answer, verdict, mistake):
    report = verify(nets[network], answer, wrt=wrt, of=of)
    assert report.verdict == verdict, str(report)
    if mistake is not None:
        assert report.mistake is not None and report.mistake.key == mistake, str(report)


@pytest.mark.slow
@pytest.mark.parametrize("network, wrt, of, answer, verdict, mistake", TABLE, ids=[f"{t[0]}:{t[3][:50]}" for t in TABLE])
def test_the_grid_gives_the_same_verdicts(nets, network, wrt, of, answer, verdict, mistake):
    """The route of large networks (symcnn/verify/grid.py: floats, every entry at once), forced on
    the small ones: the same verdict as the exact route's, no mistake named."""
    report = verify(nets[network], answer, wrt=wrt, of=of, exact=False)
    assert report.verdict == verdict, str(report)
    assert any("random point" in note for note in report.notes) or not report.steps[0].entries


SINGLE_OF = r"\frac{\partial A^2_1}{\partial W^2_j} = A^1_j"  # the single entry A^2 written A^2_1 on the left


def test_a_single_entry_written_with_index_1_on_the_left(nets):
    assert verify(nets["seed"], SINGLE_OF).verdict == RIGHT
    assert verify(nets["seed"], SINGLE_OF.replace("A^1_j", "A^1_{j+1}")).verdict == WRONG


def test_the_grid_reads_a_single_entry_written_with_index_1_on_the_left(nets):
    assert verify(nets["seed"], SINGLE_OF, exact=False).verdict == RIGHT


UNREADABLE = [
    ("seed", r"\frac{\partial L}{\partial W^1_k} = X_i", "line 1, column 39: the index i is neither a number, nor an index"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = X_{12}", "X has no entry 12"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = X_12", "ambiguous"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = w_k", "cannot read 'w': the network's tensors are written in capitals, as on the slides (W); this network has X_{1}..X_{5}"),
    ("seed", r"\frac{\partial L}{\partial W^9} = 0", "this network has no W^{9}"),
    ("seed", r"x + = 2", "line 1, column 3: cannot read this"),
    ("seed", r"z_i = \sum_{k=1}^{3} w_k x_{i+k-2}", "the network's tensors are written in capitals"),
    ("softmax", r"\frac{\partial L}{\partial Z^2_k} = \text{softmax}(A^2)_k - A^2_k", "used both as the logits"),
    ("seed", "", "no math found"),
    ("seed", r"\frac{\partial}{\partial Z^1_i} \max(0, Z^1_i) = \mathbb{1}[Z^1_i > 0]",
     "line 1, column 1: a derivative written as an operator differentiates the tensor or loss written right after it"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = \frac{\partial L}{\partial W^1_k}", "the derivative it is to compute"),
    ("seed", r"\delta^1_i = \delta^1_i", "the derivative it is to compute"),
    ("seed", r"\frac{\partial Z^1_i}{\partial W^1} = X_i", "name both entries, or neither"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = X_{k}, \quad j = 1, 2, 3", "a range is stated for j, which is not an index"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = X_{k}, \quad k = 1, \ldots", "an ellipsis in a range stands between values"),
    ("two_units", r"Z^2 = W^2 A^1", "a product of matrices whose sizes do not fit (a factor of 2 columns times one of 3 rows)"),
    ("two_units", r"\delta^1 = \mathbb{1}[Z^1 > 0] \odot (W^2)^T \delta^2", "a factor of 3 columns times one of 2 rows"),
    ("two_units", r"\delta^1 = \mathbb{1}[Z^1 > 0] \odot W^2 \delta^2 + Z^1", "put each operand in parentheses"),
    ("seed", r"\frac{\partial L}{\partial b^1} = 0", "this network has no b^{1}"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, \quad "
             r"\text{where } X_0 = X_1 = 0", "line 1, column 124: a note says X_1 = 0: only the zero padding is 0"),
    ("seed", r"\frac{\partial L}{\partial W^1_k} = \delta_{k,i,j}", "Kronecker's delta has two indices"),
    ("seed", r"\frac{\partial L}{\partial X_j} = \sum_{k=\max(1)}^{3} W^1_k", r"\max in an index is written \max(a, b)"),
    ("seed", r"\frac{\partial L}{\partial X_j} = \sum_{k=1}^{i} W^1_k", "the index i is neither a number"),
    ("dense", r"\frac{\partial L}{\partial A^0} = W^1 {\mathbb{1}[Z^1 > 0] \odot W^2 \delta^2}", r"\odot (entry by entry) inside a matrix product"),
    ("seed", r"e = A^2 - y \\ e = A^2 \\ \frac{\partial L}{\partial W^2_j} = 2 e A^1_j", "line 1, column 16: e is named twice"),
    ("seed", r"e = e + A^2 \\ \frac{\partial L}{\partial W^2_j} = 2 e A^1_j", "e is named by a formula that uses e itself"),
    ("seed", r"j = A^2 - y \\ \frac{\partial L}{\partial W^2_j} = 2 j A^1_j", "j is both an index of the left-hand side and a name"),
    ("seed", r"e = A^2 - y \\ \frac{\partial L}{\partial W^1_k} = \sum_{e=1}^{5} 2 W^2_e X_{e+k-2}", "e is both the index of a sum and a name"),
    ("seed", r"g_i = W^2_i \\ \frac{\partial L}{\partial W^2_j} = 2 (A^2 - y) g", "g is named with 1 index: write g_{i}"),
    ("seed", r"g_i = W^2_i \\ \frac{\partial L}{\partial W^2_j} = 2 (A^2 - y) g_{i,j}", "g is named with 1 index: write them all"),
    ("seed", r"e = A^2 - y \\ \frac{\partial L}{\partial W^2_j} = 2 e_j A^1_j", "e is named without an index: write e alone"),
    ("seed", r"g_k = \frac{\partial L}{\partial W^1_k} \\ \frac{\partial L}{\partial W^1_k} = g_k", "the derivative it is to compute"),
    ("seed", r"e = (A^2 - y)^3 \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", "line 1, column 1: e is named but no step uses it"),
    ("seed", r"g = 2 h A^1_1 \\ h = g + A^2 \\ \frac{\partial L}{\partial W^2_j} = g", "g and h are named by formulas that use each other"),
    ("seed", r"z_i = \sum_{k=1}^{3} W^1_k X_{i+k-2} \\ \frac{\partial L}{\partial W^2_j} = 2(A^2-y) A^1_j", "written in capitals"),
    ("sigmoid", r"s = \sigma(z) \\ \sigma'(z) = s(1-s)", "s = .. names a formula without the network's tensors"),
    ("seed", r"u = A^2 - y \\ \frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2 u W^2_i u(Z^1_i) X_{i+k-2}", "u is named, and u(..) is a function here"),
    ("dense", r"\frac{\partial L}{\partial A^0} = W^1 (\mathbb{1}[Z^1 > 0] \odot W^2 \delta^2)^2", "a power of a matrix that is not square"),
]


@pytest.mark.parametrize("network, answer, message", UNREADABLE, ids=[u[1][:40] for u in UNREADABLE])
def test_unreadable_answers_name_the_piece(nets, network, answer, message):
    with pytest.raises(symcnn.SymcnnError) as error:
        verify(nets[network], answer)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


@pytest.mark.parametrize("name, kwargs, verdict, mistake", [
    ("dloss_dW1_correct.tex", {"wrt": "W1"}, RIGHT, None),
    ("dloss_dW1_product.tex", {"wrt": "W1"}, RIGHT, None),
    ("dloss_dW1_index.tex", {}, RIGHT, None),
    ("dloss_dW1_chain.tex", {"wrt": "W1"}, RIGHT, None),
    ("dZ1_dW1_correct.tex", {"wrt": "W1", "of": "Z1"}, RIGHT, None),
    ("dZ1_dW1_padding_zero.tex", {"wrt": "W1", "of": "Z1"}, RIGHT, None),
    ("dZ1_dW1_transposed.tex", {"wrt": "W1", "of": "Z1"}, WRONG, "transposed"),
    ("dloss_dW1_padding_dropped.tex", {"wrt": "W1"}, WRONG, "padding-dropped"),
    ("dloss_dW1_off_by_one.tex", {"wrt": "W1"}, WRONG, "index-shifted"),
    ("dloss_dW1_sign.tex", {"wrt": "W1"}, WRONG, "sign"),
    ("dloss_dW1_no_relu.tex", {"wrt": "W1"}, WRONG, "activation-derivative-dropped"),
    ("dloss_dW1_chain_wrong_step.tex", {"wrt": "W1"}, WRONG, "activation-derivative-dropped"),
])
def test_shipped_answers(nets, name, kwargs, verdict, mistake):
    report = verify(nets["seed"], (ANSWERS / name).read_text(), source=name, **kwargs)
    assert report.verdict == verdict, str(report)
    assert (report.mistake.key if report.mistake else None) == mistake, str(report)


def _filter_cell(a, b, flipped=False):
    """dL/dW^1_{a,b} of conv2d written by hand: a double sum over the 4 x 4 outputs."""
    da, db = (1 - a, 1 - b) if flipped else (a - 2, b - 2)  # flipped: W_{a,b} read as W_{3-a,3-b}
    row, col = "i" + (f"{da:+d}" if da else ""), "j" + (f"{db:+d}" if db else "")
    return (rf"\sum_{{i=1}}^{{4}}\sum_{{j=1}}^{{4}} X_{{{row},{col}}} \mathbb{{1}}[Z^1_{{i,j}} > 0] "
            rf"W^2_{{4(i-1)+j}} 2(A^2-y)")


@pytest.mark.parametrize("flipped, verdict", [(False, RIGHT), (True, WRONG)])
def test_2d_filter_gradient_in_its_own_shape(nets, flipped, verdict):
    rows = [" & ".join(_filter_cell(a, b, flipped) for b in (1, 2)) for a in (1, 2)]
    answer = r"\frac{\partial L}{\partial W^1} = \begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    report = verify(nets["conv2d"], answer)
    assert report.verdict == verdict, str(report)
    assert report.steps[0].layout == "in W^{1}'s own shape 2 x 2, row by row"
    if flipped:
        assert report.mistake.key == "filter-flipped"


def test_a_stated_range_that_leaves_entries_out_is_wrong(nets):
    report = verify(nets["seed"], r"\frac{\partial L}{\partial W^1_k} = \sum_{i} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-2}, "
                                  r"\quad k = 1, 2")
    assert report.steps[0].problem == r"the answer states k = 1, 2; \frac{\partial L}{\partial W^{1}} needs k = 1..3"


def test_argmax_as_an_equality(nets):
    """``1[X_1 = max(X_1, X_2)]`` is the course's argmax: at a tie only the first maximum; the
    report says that the literal equality differs there."""
    from symcnn.parse import parse_latex
    X_1, X_2 = (sympy.Symbol(f"X_{i}", real=True) for i in (1, 2))
    assert parse_latex(r"\mathbb{1}[X_1 = \max(X_1, X_2)]", nets["seed"]) == sympy.Heaviside(X_1 - X_2, 1)
    assert parse_latex(r"\mathbb{1}[\max(X_1, X_2) = X_2]", nets["seed"]) == sympy.Heaviside(X_2 - X_1, 0)
    at_tie = {X_1: 1, X_2: 1}
    assert [parse_latex(rf"\mathbb{{1}}[X_{i} = \max(X_1, X_2)]", nets["seed"]).subs(at_tie) for i in (1, 2)] == [1, 0]
    report = verify(nets["pool"], TABLE_BY_NOTE["argmax"], wrt="A1")
    assert report.correct and any("at a tie only the first maximum" in note for note in report.notes), str(report)
    with pytest.raises(symcnn.SymcnnError, match="one of the maximum's arguments"):
        parse_latex(r"\mathbb{1}[X_3 = \max(X_1, X_2)]", nets["seed"])


def test_a_chain_names_its_first_wrong_step(nets):
    report = verify(nets["seed"], (ANSWERS / "dloss_dW1_chain_wrong_step.tex").read_text(), wrt="W1")
    assert [step.right for step in report.steps] == [True, False]
    assert report.first_wrong is report.steps[1] and "first wrong step: 2, line 5" in str(report)


def test_counterexamples_are_real_points(nets):
    seed = nets["seed"]
    report = verify(seed, (ANSWERS / "dloss_dW1_sign.tex").read_text(), wrt="W1")
    for entry in report.steps[0].entries:
        point = entry.counterexample
        assert seed.substitute(entry.expected, point.point) == point.expected
        assert seed.substitute(entry.given, point.point) == point.given != point.expected
        assert all(v != 0 for v in seed.evaluate(point.point)["Z1"].flat)  # away from the ReLU kink


def test_messages_are_in_the_course_notation(nets):
    text = str(verify(nets["seed"], (ANSWERS / "dloss_dW1_no_relu.tex").read_text(), wrt="W1"))
    assert r"\mathbf{1}\left[Z^{1}_{2} > 0\right]" in text and "W^{2}_{2}" in text
    assert "Heaviside" not in text and "W2_2" not in text and "Z1_" not in text
    assert "(" in text.split("expected ")[-1]  # decimals beside the exact values


def test_inline_math_around_displayed_math_is_prose(nets):
    """``for $k = 1, 2, 3$, with $X_0 = X_6 = 0$`` around a displayed answer is the student's
    sentence, not an equation to check (a note says so); a file of inline math only is read."""
    formula = r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i>0] X_{i+k-%d}"
    prose = "We get\n\\[ %s \\]\nfor $k = 1, 2, 3$, where $H$ is the step and $\\mathbb{1}[\\cdot]$ the indicator."
    report = verify(nets["seed"], prose % (formula % 2))
    assert report.verdict == RIGHT and any("3 pieces of inline math" in note for note in report.notes)
    assert verify(nets["seed"], prose % (formula % 1)).verdict == WRONG
    assert verify(nets["seed"], "so $%s$." % (formula % 1)).verdict == WRONG


def test_a_name_given_inline_in_the_prose_is_read(nets):
    """``Let $r = A^2 - y$.`` names a formula the displayed math uses; ``for $k = 1, 2, 3$`` stays
    prose (no tensor on its right), and so do a sentence's ``$h$`` and inline math that does not
    read as a name."""
    prose = ("Let $r = A^2 - y$ and $h$ the step. Then\n\\[ \\frac{\\partial L}{\\partial W^1_k} = \\sum_{i=1}^{5} "
             "%s r W^2_i u(Z^1_i) X_{i+k-2} \\]\nfor $k = 1, 2, 3$.")
    report = verify(nets["seed"], prose % 2)
    assert report.verdict == RIGHT, str(report)
    assert "r read as a name for A^2 - y wherever the answer writes r" in report.notes
    assert any(note.startswith("2 pieces of inline math") for note in report.notes)
    assert verify(nets["seed"], prose % 1).verdict == WRONG
    typo = prose.replace("and $h$ the step", "and $h_i = \\frac{\\partial L}{\\partial}$ the step")
    assert verify(nets["seed"], typo % 2).verdict == RIGHT  # inline math that does not read as a name: prose


def test_facts_and_names_alone_derive_nothing(nets):
    """A fact about a function is checked and reported as a step of its own (``\\sigma'(z) = ..``,
    its sides compared at several values); an answer of facts and names only, to a question, is
    wrong (a grader counts it), and without a question there is nothing to check but its facts."""
    fact = r"\operatorname{ReLU}'(z) = \mathbb{1}[z %s 0]"
    report = verify(nets["seed"], fact % ">")
    assert report.verdict == RIGHT and report.steps[0].title == fact % ">" and "its sides agree" in str(report)
    wrong = verify(nets["seed"], fact % "<")
    assert wrong.verdict == WRONG and "at z = -11/3" in wrong.steps[0].problem, str(wrong)
    asked = verify(nets["seed"], "e = A^2 - y \\\\ " + fact % ">", wrt="W1")
    assert asked.verdict == WRONG and asked.steps[0].right and "derives nothing" in asked.steps[-1].problem
    with pytest.raises(symcnn.SymcnnError, match="only names formulas"):
        verify(nets["seed"], "e = A^2 - y")


def test_wrong_quantity_and_reversed_chain_exit_1_with_their_mistake(tmp_path):
    for answer, key in [(r"\frac{\partial L}{\partial W^2} = 2(A^2-y)A^1", "wrong-quantity"),
                        (r"\frac{\partial L}{\partial W^1} = \frac{\partial L}{\partial A^1} \frac{\partial A^1}{\partial Z^1} "
                         r"\frac{\partial Z^1}{\partial W^1}", "chain-reversed")]:
        path = tmp_path / "answer.tex"
        path.write_text(answer)
        done = run_cli("verify", NETWORKS["seed"], path, "--wrt", "W1", "--format", "json")
        assert done.returncode == 1 and json.loads(done.stdout)["mistake"]["key"] == key, done.stdout + done.stderr


def test_json_report_and_hidden_solution(nets):
    report = verify(nets["seed"], (ANSWERS / "dloss_dW1_sign.tex").read_text(), wrt="W1")
    data = json.loads(to_json(report))
    assert data["verdict"] == "wrong" and data["mistake"]["key"] == "sign"
    assert [e["status"] for e in data["steps"][0]["entries"]] == ["wrong"] * 3
    assert set(data["counterexample"]["point"]) == {"X", "W1", "W2", "y"}
    hidden = json.loads(to_json(report, hide_solution=True))
    assert all("expected" not in e for e in hidden["steps"][0]["entries"])


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symcnn", *map(str, args)], capture_output=True, text=True)


def test_cli_exit_status_formats_and_limits(tmp_path):
    seed = NETWORKS["seed"]
    right = run_cli("verify", seed, ANSWERS / "dloss_dW1_index.tex")
    assert right.returncode == 0 and "verdict: correct" in right.stdout, right.stderr
    wrong = run_cli("verify", seed, ANSWERS / "dloss_dW1_sign.tex", "--wrt", "W1", "--format", "json", "--hide-solution")
    assert wrong.returncode == 1 and json.loads(wrong.stdout)["mistake"]["key"] == "sign"
    assert "A^{2} - y\\\\right) \\\\left(W^{2}_{2}" not in wrong.stdout  # no expected expression
    for args, message in [((ANSWERS / "README.md", "--wrt", "W1"), "line "),
                          ((ANSWERS / "nothere.tex", "--wrt", "W1"), "nothere.tex: cannot read the answer"),
                          ((ANSWERS / "dloss_dW1_correct.tex", "--wrt", "W9"), "this network has no tensor 'W9'"),
                          ((ANSWERS / "dloss_dW1_correct.tex", "--wrt", "W1", "--points", "0"), "argument --points: must be an integer >= 1")]:
        bad = run_cli("verify", seed, *args)
        assert bad.returncode == 2 and bad.stderr.startswith("symcnn: error: ") and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    huge = tmp_path / "huge.tex"
    huge.write_text("X_1 + " * 20000 + "X_1")
    bad = run_cli("verify", seed, huge, "--wrt", "W1")
    assert bad.returncode == 2 and "answers are limited to 100 KB" in bad.stderr
    slow = run_cli("verify", seed, ANSWERS / "dloss_dW1_index.tex", "--time-limit", "0.001")
    assert slow.returncode == 2 and "gave up after 0.001 s" in slow.stderr, slow.stderr


# -- a network at the size of the digits benchmark ----------------------------------------

@pytest.fixture(scope="module")
def digits():
    return symcnn.load(DERIVATIONS / "digits_cnn.toml")


@pytest.mark.parametrize("answer, verdict", [
    (r"\frac{\partial L}{\partial W^3_{0,j}} = \mathrm{softmax}(Z^3)_j - y_j", "correct"),
    (r"\frac{\partial L}{\partial W^3_{0,j}} = \frac{e^{Z^3_j}}{\sum_{k=1}^{10} e^{Z^3_k}} - y_j", "correct"),
    (r"\frac{\partial L}{\partial W^3_{0,j}} = \frac{e^{Z^3_j}}{\sum_{k=1}^{10} e^{Z^3_k}} + y_j", "wrong"),
])
def test_a_network_with_relu_before_pooling_is_checked(digits, answer, verdict):
    """ReLU then 2x2 pooling over 8 filters: nearly every point has a window of four clamped
    ReLUs, tied at 0.  Such a flat window is no kink; before that rule every point was refused."""
    report = verify(digits, answer, wrt="b3", points=4)
    assert str(report).splitlines()[-1] == f"verdict: {verdict}"
    if verdict == "wrong":
        line = next(l for l in str(report).splitlines() if l.strip().startswith("at X"))
        assert "; 1280 values)" in line and len(line) < 400  # W^3 elided, not 1280 numbers
        assert re.search(r"expected  \\operatorname\{softmax\}\\left\(Z\^\{3\}\\right\)_\{(\d+)\} - y_\{\1\}",
                         str(report))  # the course's form


def test_a_time_limit_caught_on_the_way_is_still_the_time_limit():
    """The alarm strikes wherever the check is; code that catches an error to try another
    reading must not turn it into another message (CI once read "this network has no Z^1")."""
    from symcnn.verify.compare import Deadline, TimeLimitError
    with pytest.raises(TimeLimitError, match="gave up after 5 s"):
        with Deadline(5) as deadline:
            try:
                deadline.expired()
            except ValueError:
                pass  # a reader trying another reading
    with pytest.raises(TimeLimitError, match="gave up after 5 s"):
        with Deadline(5) as deadline:
            try:
                deadline.expired()
            except ValueError:
                raise KeyError("something else") from None
    with Deadline(5):
        pass  # not struck: nothing raised


def test_the_alarm_inside_a_tensor_lookup_gives_up(monkeypatch):
    import signal
    net = symcnn.load(NETWORKS["seed"])
    lookup = type(net).tensor

    def struck(self, name):
        if sys._getframe(1).f_code.co_name == "tensor_name":  # where CI's 1 ms limit once ran out:
            signal.raise_signal(signal.SIGALRM)                 # the reader looking up a written name
        return lookup(self, name)
    monkeypatch.setattr(type(net), "tensor", struck)
    with pytest.raises(symcnn.verify.TimeLimitError, match="gave up after 30 s"):
        verify(net, (ANSWERS / "dloss_dW1_index.tex").read_text(), time_limit=30)


def test_only_flat_pooling_ties_are_allowed():
    from symcnn.verify.compare import Deadline, PointChecker
    net = symcnn.Network({"input": [4], "layers": [{"type": "conv", "size": 1, "activation": "relu"},
                                                   {"type": "maxpool", "size": 2}]})
    checker = PointChecker(net, points=4, seed=0, deadline=Deadline(None))
    at = lambda x, w: checker._at_kink(net.substitutions({"X": x, "W1": [[[w]]], "b1": [0]}))
    assert not at([1, 2, 3, 4], 1)       # no tie
    assert not at([-1, -2, -3, -4], 1)   # ties of ReLUs clamped to 0: flat windows
    assert at([2, 2, 3, 4], 1)           # a tie of positive values: a kink
    assert at([0, -1, 3, 4], 1)          # a ReLU at 0


# -- one derivation behind verify: the general formulas ---------------------------------------

class _Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"verify asked the entry-by-entry derivation ({name})")


@pytest.mark.parametrize("network, wrt, of, answer, verdict", [
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i", RIGHT),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \frac{\partial Z^1}{\partial W^1} \operatorname{diag}(\mathbb{1}[Z^1 > 0]) W^2 \, 2(A^2 - y)", RIGHT),
    ("seed", "W1", "L", r"2(A^2-y)\begin{bmatrix} \sum_{i} X_{i-2} \mathbb{1}[Z^1_i>0] W^2_i \\ \sum_{i} X_{i-1} \mathbb{1}[Z^1_i>0] W^2_i \\ "
                        r"\sum_{i} X_{i} \mathbb{1}[Z^1_i>0] W^2_i \end{bmatrix}", WRONG),
    ("seed", None, "Z1", r"\frac{\partial Z^1_i}{\partial W^1_k} = X_{i+k-2}", RIGHT),
    ("seed", None, "L", r"Z^1_i = \sum_{k=1}^{3} W^1_k X_{i+k-1}", WRONG),
    ("pool", None, "L", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) \max(A^1_{2m-1}, A^1_{2m})", RIGHT),
])
def test_verify_reads_the_general_formulas_only(network, wrt, of, answer, verdict):
    """Expected values and the mistakes' factors come from ``net.formula(..).at(..)``; the
    entry-by-entry derivation (behind ``jacobian``, ``gradient``, ``chain``) is never asked."""
    spec = NETWORKS[network]
    net = symcnn.load(spec) if not isinstance(spec, dict) else symcnn.Network(spec)
    net.__dict__["derivation"] = _Untouchable()
    report = verify(net, answer, wrt=wrt, of=of)
    assert report.verdict == verdict, str(report)
    if verdict == WRONG and network == "seed" and wrt == "W1":
        assert report.mistake.key == "index-shifted"  # found among mutations of formula-built factors


def test_derived_matrices_equal_the_entry_by_entry_oracle(nets):
    from symcnn.parse.tables import derived
    for network, of, wrt in [("seed", "Z1", "W1"), ("seed", "A1", "Z1"), ("seed", "Z2", "A1"), ("seed", "L", "W1"),
                             ("seed", "Z2", "W1"), ("pool", "A2", "A1"), ("pool", "Z3", "Z1"), ("dense", "L", "b1"),
                             ("conv2d", "Z1", "X"), ("softmax", "L", "W1")]:
        net = nets[network]
        oracle = net.gradient(wrt) if of == "L" else net.jacobian(of, wrt)
        difference = (derived(net, of, wrt) - oracle).xreplace({s: 0 for s in net.padding_symbols()} if of == "L" else {})
        assert difference.applyfunc(sympy.expand) == sympy.zeros(*oracle.shape), (network, of, wrt)
