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
# # Part 3: a PyTorch regression
#
# **The task.** The exercise sheet asks to "build a neural network in PyTorch for a toy
# regression problem"; its notebook for this part, with the data and the model it may
# prescribe, is not in our source. The problem, the model and the training below are **this
# site's choice**: a small network fitting a noisy one-dimensional function, with plots of the
# data, the fit and the loss curve.
#
# The data: 200 points $x \sim U(-3, 3)$ with $t = \sin(x) + 0.3\,x + \varepsilon$,
# $\varepsilon \sim \mathcal{N}(0, 0.2^2)$. The model: an MLP with two hidden layers of 32 tanh
# units. Training: Adam, learning rate 0.01, mini-batches of 32, 150 epochs. Everything is seeded.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

torch.manual_seed(0)
x = torch.empty(200, 1).uniform_(-3, 3)
t = torch.sin(x) + 0.3 * x + 0.2 * torch.randn(200, 1)
x_val = torch.linspace(-3, 3, 101).reshape(-1, 1)
t_val_clean = torch.sin(x_val) + 0.3 * x_val

model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                      nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))

# %% [markdown]
# The training loop is the standard one: for each mini-batch, clear the gradients, compute the
# loss, backpropagate, step. `zero_grad()` matters because PyTorch *adds* new gradients to the
# stored ones.

# %%
generator = torch.Generator().manual_seed(0)
losses = []
for epoch in range(150):
    order = torch.randperm(len(x), generator=generator)
    for i in range(0, len(x), 32):
        idx = order[i:i + 32]
        optimizer.zero_grad()
        loss = loss_fn(model(x[idx]), t[idx])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        losses.append(loss_fn(model(x), t).item())

with torch.no_grad():
    fit_error = loss_fn(model(x_val), t_val_clean).item()
    # the loss the noise-free function itself has on these 200 points: this draw's noise
    noise_mse = loss_fn(torch.sin(x) + 0.3 * x, t).item()
late = losses[-30:]              # the last 30 epochs: the curve has levelled off
late_median = sorted(late)[len(late) // 2]
# A good fit reaches about the noise level on the training set and lies close to the
# clean function. Bounds measured over seeds 0-9 with a margin: the late median is within
# 8% of noise_mse, the late range below 0.014, the fit error below 0.012.
assert abs(late_median / noise_mse - 1) < 0.15, (late_median, noise_mse)
assert max(late) - min(late) < 0.025, (min(late), max(late))
assert fit_error < 0.02, fit_error
print(f"training MSE, median of the last 30 epochs: {late_median:.3f}; "
      f"MSE of the noise-free function on the same points: {noise_mse:.3f}")
print(f"MSE of the fit against the noise-free function: below 0.02: {fit_error < 0.02}")

# %% [markdown]
# The training loss levels off at the noise level of the data: the median of the last 30
# epochs is within 15% of the loss the noise-free function itself has on these 200 points
# (0.045 for this draw; the noise variance is $0.2^2 = 0.04$). A loss far below it would mean
# the network memorises the noise. The fit follows the noise-free curve closely, as the small
# error against it says. This is one seeded run; with Adam at this learning rate the training
# loss still wobbles from epoch to epoch, so the check uses the median of the last 30 epochs,
# not the last one.

# %%
with torch.no_grad():
    prediction = model(x_val)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
ax1.plot(x, t, "o", ms=3, alpha=0.5, label="noisy data")
ax1.plot(x_val, t_val_clean, "k--", label="noise-free function")
ax1.plot(x_val, prediction, "C3", label="network")
ax1.set_xlabel("x")
ax1.set_ylabel("t")
ax1.legend()
ax1.set_title("Data and fit")
ax2.semilogy(losses)
ax2.axhline(noise_mse, color="gray", ls=":", label="noise-free function")
ax2.set_xlabel("epoch")
ax2.set_ylabel("training MSE")
ax2.legend()
ax2.set_title("Loss curve")
fig.tight_layout()
