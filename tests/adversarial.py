"""Adversarial answers, written by hand: realistic right ones in many notations, wrong ones
(each a known mistake made by editing a right one), and unreadable ones.  Used by
tests/test_verify_adversarial.py (slow) to count verdicts and to assert none is false."""


R, W, U = "right", "wrong", "unreadable"  # the networks are those of test_verify.NETWORKS

# Right answers per network: (network, --wrt, --of, answer)
RIGHT_ANSWERS = [
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i"),
    ("seed", None, "L", r"$$\frac{\partial \text{loss}}{\partial W^{(1)}_{k}} = 2\left(A^{2}-y\right)\sum_{i} W^{(2)}_{i}\,\mathbf{1}\left[Z^{(1)}_{i}>0\right] X_{i+k-2}$$"),
    ("seed", None, "L", r"\nabla_{W^1} L = \frac{\partial Z^1}{\partial W^1}\,\text{diag}(\mathbb{1}[Z^1>0])\,W^2\,2(A^2-y)"),
    ("seed", "W1", "L", r"\begin{bmatrix} X_0 & X_1 & X_2 & X_3 & X_4 \\ X_1 & X_2 & X_3 & X_4 & X_5 \\ X_2 & X_3 & X_4 & X_5 & X_6 \end{bmatrix} \begin{bmatrix} \mathbb{1}[Z^1_1>0] W^2_1 \\ \mathbb{1}[Z^1_2>0] W^2_2 \\ \mathbb{1}[Z^1_3>0] W^2_3 \\ \mathbb{1}[Z^1_4>0] W^2_4 \\ \mathbb{1}[Z^1_5>0] W^2_5 \end{bmatrix} 2(A^2-y)"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y)\operatorname{ReLU}(Z^1_j)"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y)\max(0, Z^1_j)"),
    ("seed", None, "L", r"\frac{\partial L}{\partial A^1_i} = 2 (A^2 - y) W^2_i"),
    ("seed", None, "L", r"\delta^1_i = 2 (A^2 - y) W^2_i \mathbb{1}[Z^1_i > 0]"),
    ("seed", None, "L", r"\frac{\partial L}{\partial Z^1_i} = 2 (A^2 - y) W^2_i \operatorname{ReLU}'(Z^1_i)"),
    ("seed", None, "L", r"\frac{\partial L}{\partial A^2} = 2(A^2-y)"),
    ("seed", None, "Z1", r"\frac{\partial Z^1_i}{\partial X_j} = W^1_{j-i+2}"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_3} = 2(A^2-y)\,(W^2_1X_2\mathbb{1}[Z^1_1>0] + W^2_2X_3\mathbb{1}[Z^1_2>0] + W^2_3X_4\mathbb{1}[Z^1_3>0] + W^2_4X_5\mathbb{1}[Z^1_4>0])"),
    ("seed", None, "L", r"\begin{align*} \frac{\partial L}{\partial W^1_k} &= \sum_i \frac{\partial L}{\partial Z^1_i} \frac{\partial Z^1_i}{\partial W^1_k} \\ &= \sum_i \delta^1_i X_{i+k-2} \\ &= \sum_{i=1}^{5} 2(A^2-y) W^2_i \mathbb{1}[Z^1_i > 0] X_{i+k-2} \end{align*}"),
    ("seed", None, "L", r"Z^1_i = W^1_1 X_{i-1} + W^1_2 X_i + W^1_3 X_{i+1}"),
    ("seed", None, "L", r"A^2 = \sum_{i=1}^5 W^2_i A^1_i"),
    ("seed", None, "L", r"L = (A^2 - y)^2"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{5} X_{i+k-2}\,\mathbb{1}[Z^1_i>0]\,2(A^2-y)W^2_i"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^{1}_{0}} = 2(A^2-y)\sum_{i} W^2_i\,\mathbb{1}\{Z^1_i>0\}"),
    ("seed_bias", None, "L", r"\frac{\partial L}{\partial W^2_0} = 2A^2 - 2y"),
    ("seed_bias", None, "L", r"Z^1_i = \sum_{k=1}^{3} W^1_k X_{i+k-2} + W^1_0"),
    ("seed_bias", "W2", "L", r"2(A^2-y) A^1"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial A^2_k} = -y_k / A^2_k"),  # the course's A^L = softmax(Z^L)
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = 2(A^2-y) W^2_j \mathbb{1}[Z^1_j>0] X_i"),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{ij}} = X_i\,\mathbb{1}_{\{Z^1_j > 0\}}\,W^2_j\,2(A^2-y)"),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^2_{j}} = 2(A^2-y) A^1_j"),
    ("dense", "W2", "L", r"2(A^2 - y)\begin{pmatrix} A^1_1 \\ A^1_2 \end{pmatrix}"),
    ("dense", "W2", "L", r"2(A^2 - y)(A^1_1, A^1_2)^T"),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_0} = 2(A^2-y) W^2 \odot \mathbb{1}[Z^1>0]"),
    ("dense", None, "L", r"\frac{\partial L}{\partial X_i} = \sum_{j=1}^{2} W^1_{i,j} \mathbb{1}[Z^1_j>0] W^2_j 2(A^2-y)"),
    ("dense", None, "L", r"Z^1_j = \sum_{i=1}^{3} W^1_{i,j} X_i + W^1_{0,j}"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = A^2_k - y_k"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \operatorname{softmax}(Z^2)_k - y_k"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \frac{\exp(Z^2_k)}{\sum_{m=1}^{3}\exp(Z^2_m)} - y_k"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \text{softmax}(A^2)_k - y_k"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^2_{j,k}} = A^1_j(\hat y_k - y_k)"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^2_{0,k}} = A^2_k - y_k"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial A^1_j} = \sum_k W^2_{j,k}(A^2_k - y_k)"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^1_j} = (1 - \tanh^2(Z^1_j)) \sum_k W^2_{j,k}(A^2_k - y_k)"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_i \,(1-A^1_j A^1_j)\sum_{k=1}^{3} W^2_{j,k}\bigl(A^2_k - y_k\bigr)"),
    ("softmax", "b2", "L", r"\begin{bmatrix} A^2_1 - y_1 \\ A^2_2 - y_2 \\ A^2_3 - y_3 \end{bmatrix}"),
    ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{a,b}} = \sum_{i=1}^{4}\sum_{j=1}^{4} X_{i+a-2,j+b-2} \mathbb{1}[Z^1_{i,j} > 0] W^2_{4(i-1)+j} 2(A^2-y)"),
    ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{ab}} = 2(A^2-y)\sum_{i,j} W^2_{4i+j-4}\,\mathbf{1}[Z^1_{ij}>0]\,X_{i+a-2,j+b-2}"),
    ("conv2d", None, "L", r"\frac{\partial Z^1_{i,j}}{\partial W^1_{a,b}} = X_{i+a-2,j+b-2}"),
    ("conv2d", None, "L", r"\frac{\partial L}{\partial A^1_{i,j}} = 2(A^2-y) W^2_{4(i-1)+j}"),
    ("conv2d", None, "L", r"Z^1_{i,j} = \sum_{a=1}^{2}\sum_{b=1}^{2} W^1_{a,b} X_{i+a-2,j+b-2}"),
    ("pool", None, "L", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) A^2_m"),
    ("pool", None, "L", r"\frac{\partial L}{\partial W^3_m} = 2(A^3 - y) \max(A^1_{2m-1}, A^1_{2m})"),
    ("pool", None, "L", r"\frac{\partial L}{\partial A^2_m} = 2(A^3-y) W^3_m"),
    ("pool", None, "L", r"A^2_m = \max(A^1_{2m-1}, A^1_{2m})"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_{i=1}^{3} X_{i+k-1}\,A^1_i(1-A^1_i)\,W^2_i\,2(A^2-y)"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^1_k} = 2(A^2-y)\sum_{i} W^2_i \sigma(Z^1_i)\bigl(1-\sigma(Z^1_i)\bigr) X_{i+k-1}"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial Z^1_i} = 2(A^2-y)W^2_i\sigma'(Z^1_i)"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^2_i} = 2(A^2-y)\sigma(Z^1_i)"),
    ("sigmoid", None, "L", r"\frac{\partial L}{\partial W^2_i} = 2(A^2-y)\frac{1}{1+e^{-Z^1_i}}"),
]

# Edits that make a right answer wrong: (old, new) applied to the answers containing `old`
EDITS = [("2(A^2-y)", "2(y-A^2)"), ("2(A^2-y)", "(A^2-y)"), ("2(A^3 - y)", "(A^3 - y)"), ("2 (A^2 - y)", "2 (A^2 + y)"),
         ("X_{i+k-2}", "X_{i+k-1}"), ("X_{i+k-2}", "X_{i+k-3}"), ("X_{i+k-2}", "X_{i-k+2}"), ("X_{i+k-1}", "X_{i+k}"),
         (r"\mathbb{1}[Z^1_i>0]", ""), (r"\mathbb{1}[Z^1_i > 0]", r"\mathbb{1}[A^1_i < 0]"), ("W^2_i", "W^1_i"),
         ("A^2_k - y_k", "y_k - A^2_k"), ("A^2_k - y_k", "Z^2_k - y_k"), (r"\hat y_k - y_k", r"y_k - \hat y_k"),
         ("A^1(1-A^1_i)", ""), ("A^1_i(1-A^1_i)", "A^1_i"), (r"\sigma'(Z^1_i)", r"\sigma'(A^1_i)"),
         (r"X_{i+a-2,j+b-2}", r"X_{i+b-2,j+a-2}"), (r"W^2_{4(i-1)+j}", r"W^2_{4(j-1)+i}"), ("A^1_j", "Z^1_j"),
         (r"\max(A^1_{2m-1}, A^1_{2m})", r"A^1_{2m}"), ("(1-A^1_j A^1_j)", "(1-A^1_j)"), (r"\tanh^2(Z^1_j)", r"\tanh(Z^1_j)"),
         ("W^{(2)}_{i}", "W^{(2)}_{i+1}"), ("X_i", "X_j"), ("W^1_{i,j}", "W^1_{j,i}"), ("W^2_{j,k}", "W^2_{k,j}"),
         ("+ W^1_0", ""), ("X_{i-1}", "X_{i}"), ("2A^2 - 2y", "2A^2 - y")]

# Wrong answers that are no edit of a right one: another quantity than the one asked, the chain
# rule in reversed order (issue 20: both were refused as unreadable; a grader must count them),
# delta^L given for dloss/dA^L (the course's A^L = softmax(Z^L))
WRONG_ANSWERS = [
    ("seed", "W1", "L", r"\frac{\partial L}{\partial W^2} = 2(A^2-y)A^1"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = \frac{\partial L}{\partial A^1} \frac{\partial A^1}{\partial Z^1} \frac{\partial Z^1}{\partial W^1}"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial A^2_k} = A^2_k - y_k"),  # that is delta^2, dL/dZ^2
]

# Answers that must be refused (exit 2): unreadable, ambiguous or naming what the network lacks
UNREADABLE_ANSWERS = [
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = X_12"), ("seed", None, "L", r"\frac{\partial L}{\partial W^2_j} = 2(A^2-y)A^1_jk"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \sum_j X_{j+1}"), ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = X_{i+k-2}"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^3} = 0"), ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = w_k"),
    ("seed", "W1", "L", r"W^2_1 X_0 + \cdots + W^2_5 X_4"), ("seed", None, "L", r"\frac{\partial L}{\partial W^1} = "),
    ("seed", None, "L", r"2(A^2-y)"), ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \mathbb{1}[Z^1_k]"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \begin{vmatrix} 1 \end{vmatrix}"), ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = X_{k/2}"),
    ("softmax", None, "L", r"\frac{\partial L}{\partial Z^2_k} = \text{softmax}(A^2)_k - A^2_k"),
    ("dense", None, "L", r"\frac{\partial L}{\partial W^1_{i,j}} = X_{i,j}"), ("conv2d", None, "L", r"\frac{\partial L}{\partial W^1_{a}} = 1"),
    ("seed", None, "L", "$X_1"),
    ("seed", None, "L", r"\frac{\partial L}{\partial W^1_k} = \color{red}{X_k}"), ("pool", None, "L", r"\frac{\partial L}{\partial Z^2_m} = 0"),
]


def cases():
    """``(network, wrt, of, answer, expected)`` for every adversarial answer."""
    found = [(n, w, o, a, R) for n, w, o, a in RIGHT_ANSWERS]
    for network, wrt, of, answer in RIGHT_ANSWERS:
        for old, new in EDITS:
            if old in answer:
                found.append((network, wrt, of, answer.replace(old, new, 1), W))
    found += [(n, w, o, a, W) for n, w, o, a in WRONG_ANSWERS]
    return found + [(n, w, o, a, U) for n, w, o, a in UNREADABLE_ANSWERS]
