# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 1: one training step by hand
#
# **The task.** A multilayer perceptron with 3 inputs, one hidden layer of 2 tanh units and one
# linear output unit is trained with the squared error $L = (y - t)^2$ of a single example and
# plain gradient descent with learning rate $\eta = 0.5$. Starting from the given parameters,
# compute one full iteration: the forward pass, the loss, the gradients, and the updated
# parameters, each to 2 decimals.
#
# $$W_1 = \begin{bmatrix} 0.1 & 0.3 & -0.5 \\ -0.2 & 0.4 & 0.6 \end{bmatrix},\quad
# b_1 = \begin{bmatrix} 0.1 \\ 0.2 \end{bmatrix},\quad
# W_2 = \begin{bmatrix} 0.7 & -0.8 \end{bmatrix},\quad b_2 = 0.3,$$
#
# $$x = \begin{bmatrix} 0.3 \\ 0.4 \\ -0.1 \end{bmatrix},\quad t = 0.5.$$
#
# Each quantity below is computed from its formula, printed to 4 decimals, and followed by the
# 2-decimal answer the exercise asks for. The variables carry the names the graded notebook
# asks for (`a`, `z`, `y`, `loss`, `dL_dy`, `dL_dw2`, `dL_db2`, `dL_dw1`, `W2_updated`,
# `b2_updated`, `W1_updated`, `b1_updated`); the intermediate gradients the exercise does not
# grade (`dL_dz`, `dz_da`, `dL_da`, `dL_db1`) are named the same way. The cell under
# *Check* compares every one of these 16 quantities with PyTorch's autograd and
# `torch.optim.SGD`.

# %%
import numpy as np

W1 = np.array([[0.1, 0.3, -0.5], [-0.2, 0.4, 0.6]])
b1 = np.array([0.1, 0.2])
W2 = np.array([[0.7, -0.8]])
b2 = np.array([0.3])
x = np.array([0.3, 0.4, -0.1])
t = np.array([0.5])
lr = 0.5


def show(name: str, value) -> None:
    """Print a quantity to 4 decimals and the 2-decimal answer."""
    value = np.asarray(value, dtype=float)
    four = np.array2string(np.round(value, 4) + 0.0, precision=4, floatmode="fixed")
    two = np.array2string(np.round(value, 2) + 0.0, precision=2, floatmode="fixed")
    print(f"{name:10s} = {four}   answer: {two}")


# %% [markdown]
# ## Step 1: forward pass
#
# Pre-activation $a = W_1 x + b_1$. Row by row:
# $a_1 = 0.1\cdot0.3 + 0.3\cdot0.4 - 0.5\cdot(-0.1) + 0.1 = 0.03 + 0.12 + 0.05 + 0.1$ and
# $a_2 = -0.2\cdot0.3 + 0.4\cdot0.4 + 0.6\cdot(-0.1) + 0.2 = -0.06 + 0.16 - 0.06 + 0.2$.
# Then $z = \tanh(a)$ element-wise and the output $y = W_2 z + b_2$.

# %%
a = W1 @ x + b1
z = np.tanh(a)
y = W2 @ z + b2
show("a", a)
show("z", z)
show("y", y)

# %% [markdown]
# ## Step 2: the loss
#
# With one example, the mean squared error is the squared error $L = (y - t)^2$.

# %%
loss = float(((y - t) ** 2).sum())
show("loss", loss)

# %% [markdown]
# ## Step 3: backward pass
#
# The chain rule, from the loss back to the first layer:
#
# | gradient | formula | why |
# |---|---|---|
# | $\partial L/\partial y$ | $2(y - t)$ | derivative of the square |
# | $\partial L/\partial W_2$ | $\frac{\partial L}{\partial y}\, z^\top$ | $y$ is linear in $W_2$ with coefficient $z$ |
# | $\partial L/\partial b_2$ | $\frac{\partial L}{\partial y}$ | $\partial y / \partial b_2 = 1$ |
# | $\partial L/\partial z$ | $W_2^\top \frac{\partial L}{\partial y}$ | $y$ is linear in $z$ |
# | $\partial z/\partial a$ | $1 - z^2$ | $\tanh'(a) = 1 - \tanh^2(a)$, element-wise |
# | $\partial L/\partial a$ | $\frac{\partial L}{\partial z} \odot \frac{\partial z}{\partial a}$ | chain rule through the tanh |
# | $\partial L/\partial W_1$ | $\frac{\partial L}{\partial a}\, x^\top$ | $a$ is linear in $W_1$ |
# | $\partial L/\partial b_1$ | $\frac{\partial L}{\partial a}$ | $\partial a / \partial b_1 = I$ |
#
# The exercise's hint about "four partial derivatives" for $\partial L/\partial W_1$ is this
# chain: $\frac{\partial L}{\partial y}\cdot\frac{\partial y}{\partial z}\cdot
# \frac{\partial z}{\partial a}\cdot\frac{\partial a}{\partial W_1}$.

# %%
dL_dy = 2 * (y - t)
dL_dw2 = np.outer(dL_dy, z)
dL_db2 = dL_dy
dL_dz = W2.T @ dL_dy
dz_da = 1 - z**2
dL_da = dL_dz * dz_da
dL_dw1 = np.outer(dL_da, x)
dL_db1 = dL_da
gradients = {"dL_dy": dL_dy, "dL_dw2": dL_dw2, "dL_db2": dL_db2, "dL_dz": dL_dz,
             "dz_da": dz_da, "dL_da": dL_da, "dL_dw1": dL_dw1, "dL_db1": dL_db1}
for name, value in gradients.items():
    show(name, value)

# %% [markdown]
# ## Step 4: parameter update
#
# Gradient descent moves each parameter against its gradient: $\theta \leftarrow \theta - \eta\,
# \partial L/\partial\theta$ with $\eta = 0.5$.

# %%
W2_updated = W2 - lr * dL_dw2
b2_updated = b2 - lr * dL_db2
W1_updated = W1 - lr * dL_dw1
b1_updated = b1 - lr * dL_db1
for name, value in [("W2_updated", W2_updated), ("b2_updated", b2_updated),
                    ("W1_updated", W1_updated), ("b1_updated", b1_updated)]:
    show(name, value)

# %% [markdown]
# ## Check: PyTorch autograd and torch.optim.SGD
#
# The same computation in PyTorch, with the same parameters in float64. The forward pass gives
# `a`, `z`, `y` and the loss; `retain_grad()` keeps the gradients autograd computes for the
# intermediate tensors $y$, $z$ and $a$; $\tanh'(a)$ comes from differentiating `torch.tanh`
# alone; `torch.optim.SGD` applies the update. All 16 hand-computed quantities must agree to
# $10^{-12}$. The cell also evaluates the loss after the step.

# %%
import torch

params = {name: torch.tensor(value, requires_grad=True)
          for name, value in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]}
x_t, t_t = torch.tensor(x), torch.tensor(t)
a_t = params["W1"] @ x_t + params["b1"]
z_t = torch.tanh(a_t)
y_t = params["W2"] @ z_t + params["b2"]
loss_t = torch.nn.functional.mse_loss(y_t, t_t)
for tensor in (a_t, z_t, y_t):
    tensor.retain_grad()
opt = torch.optim.SGD(params.values(), lr=lr)
opt.zero_grad()
loss_t.backward()
a_leaf = torch.tensor(a, requires_grad=True)
# the diagonal of dz/da (the Jacobian of an element-wise tanh is diagonal)
(tanh_slope,) = torch.autograd.grad(torch.tanh(a_leaf).sum(), a_leaf)
pairs = {
    "a": (a, a_t), "z": (z, z_t), "y": (y, y_t), "loss": (loss, loss_t.item()),
    "dL_dy": (dL_dy, y_t.grad), "dL_dw2": (dL_dw2, params["W2"].grad),
    "dL_db2": (dL_db2, params["b2"].grad), "dL_dz": (dL_dz, z_t.grad),
    "dz_da": (dz_da, tanh_slope), "dL_da": (dL_da, a_t.grad),
    "dL_dw1": (dL_dw1, params["W1"].grad), "dL_db1": (dL_db1, params["b1"].grad),
}
opt.step()
pairs.update({"W2_updated": (W2_updated, params["W2"]),
              "b2_updated": (b2_updated, params["b2"]),
              "W1_updated": (W1_updated, params["W1"]),
              "b1_updated": (b1_updated, params["b1"])})
for name, (ours, theirs) in pairs.items():
    theirs = theirs.detach().numpy() if torch.is_tensor(theirs) else theirs
    assert np.allclose(ours, theirs, atol=1e-12, rtol=0), name
assert len(pairs) == 16
with torch.no_grad():
    z_after = torch.tanh(params["W1"] @ x_t + params["b1"])
    y_after = params["W2"] @ z_after + params["b2"]
    loss_after = torch.nn.functional.mse_loss(y_after, t_t).item()
print(f"all {len(pairs)} quantities agree with autograd + SGD: {', '.join(pairs)}")
print(f"output before the step {y.item():.4f}, after it {y_after.item():.4f} "
      f"(target {t.item()})")
print(f"loss before the step {loss:.4f}, after it {loss_after:.4f}")

# %% [markdown]
# ## The step makes the loss worse
#
# The loss **rises** after the update. Nothing is wrong with the gradients (autograd agrees to
# $10^{-12}$): the learning rate $\eta = 0.5$ is too large for this example. The output was
# below the target; the step moves it past the target and further away from it than it started.
# A gradient step only promises a decrease for a small enough $\eta$. The cell below repeats the
# single step for a range of learning rates: the best one for this example is well below 0.5,
# and past a threshold every step makes things worse.

# %%
import matplotlib.pyplot as plt


def loss_after_step(eta: float) -> float:
    """Loss on the example after one gradient step of size eta from the start."""
    W1_, b1_ = W1 - eta * dL_dw1, b1 - eta * dL_db1
    W2_, b2_ = W2 - eta * dL_dw2, b2 - eta * dL_db2
    y_ = W2_ @ np.tanh(W1_ @ x + b1_) + b2_
    return float(((y_ - t) ** 2).sum())


etas = np.linspace(0, 0.6, 601)
after = np.array([loss_after_step(e) for e in etas])
best = etas[after.argmin()]
largest_useful = etas[after < loss].max()
assert best < lr and largest_useful < lr
assert abs(loss_after_step(lr) - loss_after) < 1e-12
# the output starts below the target and ends above it, further away than it started
assert y.item() < t.item() < y_after.item()
assert abs(y_after.item() - t.item()) > abs(y.item() - t.item())
print(f"best learning rate for this step: {best:.3f} (loss {after.min():.4f})")
print(f"the step lowers the loss only for learning rates below about "
      f"{largest_useful:.2f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(etas, after, label="loss after one step")
ax.axhline(loss, color="gray", ls="--", label="loss before the step")
ax.axvline(lr, color="C3", ls=":", label="the exercise's $\\eta = 0.5$")
ax.set_xlabel("learning rate $\\eta$")
ax.set_ylabel("loss")
ax.legend()
ax.set_title("One gradient step on the exercise's example")

# %% [markdown]
# ## Does rounding along the way change the answers?
#
# The autograder recomputes each step from the student's previous (2-decimal) answers. Carrying
# rounded values forward is a different computation from carrying exact ones; the cell below does
# the whole iteration again with every intermediate rounded to 2 decimals and lists the answers
# that come out different. Several do, in the second decimal, which is why grading each step
# from the student's own previous answers (as the exercise says it does) matters. The answers above carry full precision and
# round only for display.

# %%
r = lambda v: np.round(v, 2)  # noqa: E731
a_r = r(W1 @ x + b1)
z_r = r(np.tanh(a_r))
y_r = r(W2 @ z_r + b2)
dy_r = r(2 * (y_r - t))
rounded = {
    "a": a_r, "z": z_r, "y": y_r, "loss": r((y_r - t) ** 2), "dL_dy": dy_r,
    "dL_dw2": r(np.outer(dy_r, z_r)), "dL_db2": dy_r,
}
da_r = r(r(W2.T @ dy_r) * r(1 - z_r**2))
rounded["dL_dw1"] = r(np.outer(da_r, x))
rounded["W2_updated"] = r(W2 - lr * rounded["dL_dw2"])
rounded["b2_updated"] = r(b2 - lr * dy_r)
rounded["W1_updated"] = r(W1 - lr * rounded["dL_dw1"])
rounded["b1_updated"] = r(b1 - lr * da_r)
exact = {"a": a, "z": z, "y": y, "loss": loss, "dL_dy": dL_dy, "dL_dw2": dL_dw2,
         "dL_db2": dL_db2, "dL_dw1": dL_dw1, "W2_updated": W2_updated,
         "b2_updated": b2_updated, "W1_updated": W1_updated, "b1_updated": b1_updated}
differs = []
for name in exact:
    same = np.array_equal(r(exact[name]), rounded[name])
    differs += [] if same else [name]
    print(f"{name:10s} exact {np.round(exact[name], 2).ravel()} rounded chain "
          f"{np.ravel(rounded[name])}{'' if same else '   <- differs'}")
assert len(differs) >= 2
