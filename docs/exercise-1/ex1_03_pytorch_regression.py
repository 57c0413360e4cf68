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
# **The task.** Build and train a small neural network in PyTorch that fits a noisy
# one-dimensional function, and look at the data, the fit and the loss curve.
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

model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
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
# The noise variance is 0.04: a good fit reaches about that training loss, and lies close to the
# clean function.
assert 0.02 < losses[-1] < 0.06, losses[-1]
assert fit_error < 0.02, fit_error
print(f"training MSE after 150 epochs: {losses[-1]:.2f} (noise variance 0.04)")
print(f"MSE of the fit against the noise-free function: below 0.02: {fit_error < 0.02}")

# %% [markdown]
# The training loss levels off near the noise variance $0.2^2 = 0.04$: the network has learned
# the function, not the noise (a loss far below it would mean it memorises the noise). The fit
# follows the noise-free curve closely, as the small error against it says.

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
ax2.axhline(0.04, color="gray", ls=":", label="noise variance")
ax2.set_xlabel("epoch")
ax2.set_ylabel("training MSE")
ax2.legend()
ax2.set_title("Loss curve")
fig.tight_layout()
