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
# # Part 2: an MLP in NumPy, forward and backward
#
# **The task.** The exercise sheet asks only to "implement the layers used in a simple
# multi-layer perceptron" in NumPy; its notebook for this part is not in our source. What this
# page does is **this site's choice**: the layers of Part 1's network (a linear layer, the tanh
# activation and the mean-squared-error loss), each with a forward and a backward pass, a check
# that they reproduce Part 1, a finite-difference gradient check, and a small training run.
#
# The layers live in `companion.layers`, where the unit tests check them against finite
# differences and against PyTorch. Every layer follows one contract:
#
# - `forward(x)` takes a batch of shape `(N, features)`, caches what the backward pass needs, and
#   returns the output;
# - `backward(grad_out)` takes $\partial L/\partial\,\text{output}$, stores the gradients of the
#   layer's parameters in `grads`, and returns $\partial L/\partial\,\text{input}$.
#
# For a batch $X$ (rows are examples) the linear layer computes $Y = XW^\top + b$, so with
# $G = \partial L/\partial Y$:
#
# $$\frac{\partial L}{\partial W} = G^\top X,\qquad \frac{\partial L}{\partial b} = \sum_n G_{n,:},\qquad
# \frac{\partial L}{\partial X} = G W.$$
#
# tanh multiplies the incoming gradient by $1 - \tanh^2(x)$, and the loss
# $L = \frac{1}{M}\sum_i (y_i - t_i)^2$ over all $M$ elements starts the chain with
# $\partial L/\partial y = \frac{2}{M}(y - t)$.

# %%
import inspect

from companion import layers

print(inspect.getsource(layers.Linear.forward))
print(inspect.getsource(layers.Linear.backward))
print(inspect.getsource(layers.Tanh.backward))
print(inspect.getsource(layers.MSELoss.backward))

# %% [markdown]
# ## Part 1 again, with the layers
#
# The network of Part 1 built from these layers gives the same gradients and the same updated
# parameters as the hand computation (asserted to $10^{-12}$).

# %%
import numpy as np

from companion.layers import Linear, MSELoss, Sequential, Tanh

W1 = np.array([[0.1, 0.3, -0.5], [-0.2, 0.4, 0.6]])
net = Sequential(Linear(3, 2, weight=W1, bias=[0.1, 0.2]), Tanh(),
                 Linear(2, 1, weight=[[0.7, -0.8]], bias=[0.3]))
x, t = np.array([[0.3, 0.4, -0.1]]), np.array([[0.5]])
loss_fn = MSELoss()
loss = loss_fn.forward(net.forward(x), t)
net.backward(loss_fn.backward())
dW1 = net.layers[0].grads["W"]
net.sgd_step(0.5)
# dL_dw1 of Part 1, to 4 decimals
expected_dW1 = np.array([[-0.0709, -0.0945, 0.0236], [0.0836, 0.1115, -0.0279]])
assert np.allclose(dW1, expected_dW1, atol=5e-5)
print("loss", round(loss, 4))
print("dL/dW1\n", np.round(dW1, 4))
print("updated W1\n", np.round(net.layers[0].params["W"], 4))

# %% [markdown]
# ## Gradient check
#
# Central finite differences, $\frac{L(\theta + \epsilon) - L(\theta - \epsilon)}{2\epsilon}$, on a
# random 3-8-2 network and a batch of 5 examples, for every parameter and for the input. The
# analytic gradients agree with them to better than $10^{-8}$ (asserted).

# %%
rng = np.random.default_rng(0)
net = Sequential(Linear(3, 8, rng), Tanh(), Linear(8, 2, rng))
X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))


def loss_now() -> float:
    return loss_fn.forward(net.forward(X), T)


def finite_difference(array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        up = loss_now()
        array[i] = old - eps
        down = loss_now()
        array[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


worst = 0.0
for k, layer in enumerate(net.layers):
    for name, param in layer.params.items():
        loss_now()
        net.backward(loss_fn.backward())
        analytic = layer.grads[name].copy()
        diff = np.abs(analytic - finite_difference(param)).max()
        worst = max(worst, diff)
        print(f"layer {k} {name}: shape {param.shape}, "
              f"max |analytic - numeric| < 1e-8: {diff < 1e-8}")
loss_now()
dX = net.backward(loss_fn.backward())
assert np.abs(dX - finite_difference(X)).max() < 1e-8
assert worst < 1e-8

# %% [markdown]
# ## Training a small network
#
# A 1-16-1 tanh network learns $t = \sin(x)$ on 64 points of $[-3, 3]$ by full-batch gradient
# descent (learning rate 0.1, 20,000 steps, NumPy only). The loss curve on a log scale shows
# the fast initial drop and the slow refinement after it.

# %%
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
X = np.linspace(-3, 3, 64).reshape(-1, 1)
T = np.sin(X)
net = Sequential(Linear(1, 16, rng), Tanh(), Linear(16, 1, rng))
history = []
for step in range(20000):
    history.append(loss_fn.forward(net.forward(X), T))
    net.backward(loss_fn.backward())
    net.sgd_step(0.1)
final = loss_fn.forward(net.forward(X), T)
assert final < history[0] / 20
print(f"loss: first step {history[0]:.2f}, after 20000 steps {final:.1g}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
ax1.semilogy(history)
ax1.set_xlabel("step")
ax1.set_ylabel("MSE loss")
ax1.set_title("Training loss")
ax2.plot(X, T, "o", ms=3, label="target sin(x)")
ax2.plot(X, net.forward(X), label="network")
ax2.set_xlabel("x")
ax2.legend()
ax2.set_title("Fit after training")
fig.tight_layout()
