"""DL Companion: the reusable code behind the site's answers.

Modules, each named for what it does:

- ``companion.layers``   NumPy layers (linear, tanh, MSE) with forward and backward passes.
- ``companion.data``     data sets: offline MNIST digits, Fashion-MNIST IDX loader, synthetic
  problems.
- ``companion.training`` training loops for PyTorch and MXNet with per-epoch history, seeding.
- ``companion.sizing``   parameter counts, memory, shapes, receptive fields, multiply-accumulates.
- ``companion.autodiff`` a small reverse-mode automatic differentiation engine with traces.
- ``companion.parity``   the MXNet <-> PyTorch parity harness and its registry.
- ``companion.plotting`` plotting helpers used by the pages.
- ``companion.seeds``    run a configuration over seeds: mean ± std, tables, clear differences.
- ``companion.ensemble`` train one PyTorch model on several seeds as one stacked computation.
- ``companion.timing``   wall-clock timing with warm-up, repeats, median and a sync call.
- ``companion.gradcheck`` finite-difference gradients to check autograd against.
- ``companion.conv``     convolution and pooling in NumPy: im2col, Toeplitz, operation counts.
- ``companion.text``     The Time Machine loader, tokens, vocabulary, sequence samplers.

Importing ``companion`` never imports mxnet; only the MXNet parts of ``parity`` and
``training`` do, when called.
"""

__version__ = "0.1.0"
