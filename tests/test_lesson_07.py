"""Mutation tests for notebook 07 (optimizers as spreadsheets).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError)
when the implementation it proves is replaced by a plausible wrong variant: Adam without bias
correction, momentum in the wrong form, ε on the wrong side of a square root, the annealing
rule dividing by 2, Newton's method without the Hessian, ...
"""

from __future__ import annotations

import pytest
from nbcells import edited_cell, exec_cells

NB = "notebooks/07_optimizers_as_spreadsheets.ipynb"
BASE = ["setup", "sheet-data", "sheet-tools"]

# proof tag -> every tag its cells need (in notebook order, exec_cells sorts them)
CHAINS = {
    "proof-sgd-golden": BASE + ["impl-sgd", "run-sgd", "proof-sgd-golden"],
    "proof-sgd-torch": BASE + ["impl-sgd", "proof-sgd-torch"],
    "proof-momentum": BASE + ["impl-momentum", "run-momentum", "proof-momentum"],
    "proof-nesterov": BASE + ["impl-nesterov", "proof-nesterov"],
    "proof-adagrad": BASE + ["impl-sgd", "run-sgd", "impl-adagrad", "run-adagrad", "proof-adagrad"],
    "proof-adagrad-ann": BASE + ["impl-adagrad", "impl-adagrad-ann", "run-adagrad-ann", "proof-adagrad-ann"],
    "proof-rmsprop": BASE + ["impl-rmsprop", "run-rmsprop", "proof-rmsprop"],
    "proof-adam": BASE + ["impl-adam", "run-adam", "proof-adam"],
    "proof-eve": BASE + ["impl-adam", "run-adam", "impl-eve", "run-eve", "proof-eve"],
    "proof-anneal": BASE + ["impl-adam", "run-adam", "impl-anneal", "run-anneal", "proof-anneal"],
    "proof-valley": BASE + ["impl-sgd", "impl-momentum", "impl-trajectories", "proof-valley"],
    "proof-nesterov-bound": BASE + ["impl-sgd", "impl-momentum", "impl-nesterov", "impl-rmsprop", "impl-adam",
                                    "impl-trajectories", "impl-nesterov-bound", "proof-nesterov-bound"],
    "proof-newton": BASE + ["impl-trajectories", "impl-newton", "proof-newton"],
    "proof-schedules": ["setup", "impl-schedules", "proof-schedules"],
}

# A small stand-in for the MNIST training cell, so the interpolation proof can be mutation-tested
# in a second: ten well-separated Gaussian clusters (not images), a small MLP, full-batch Adam.
TOY_TRAINING = '''
generator = torch.Generator().manual_seed(0)
centres = 3 * torch.randn(10, 20, generator=generator)
train_labels = torch.arange(10).repeat(40)
train_images = centres[train_labels] + torch.randn(400, 20, generator=generator)
val_labels = torch.arange(10).repeat(10)
val_images = centres[val_labels] + torch.randn(100, 20, generator=generator)
n_train = len(train_images)
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))
with torch.no_grad():
    mlp[2].weight.mul_(0.1)  # start near chance level, like a fresh MNIST net
theta_init = nn.utils.parameters_to_vector(mlp.parameters()).detach().clone()
optimizer = torch.optim.Adam(mlp.parameters(), lr=0.01)
for _ in range(100):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(mlp(train_images), train_labels).backward()
    optimizer.step()
theta_trained = nn.utils.parameters_to_vector(mlp.parameters()).detach().clone()
'''
INTERPOLATION = ["setup", "interp-train", "impl-interpolation", "proof-interpolation"]


def run(proof: str, replace: dict[str, str] | None = None) -> dict:
    return exec_cells(NB, CHAINS[proof], replace=replace)


@pytest.mark.parametrize("proof", sorted(CHAINS))
def test_proof_passes_with_the_notebooks_code(proof):
    run(proof)


def test_interpolation_proof_passes_on_a_toy_problem():
    exec_cells(NB, INTERPOLATION, replace={"interp-train": TOY_TRAINING})


# the rest of the impl-rmsprop cell, for mutants that replace rmsprop_step
RMSPROP_REST = '''

def torch_order_rmsprop_step(w, g, state):
    return rmsprop_step(w, g, state, lr=0.02, alpha=0.9, eps=0.0)


def sheet_rmsprop_step(w, g, state, lr=0.02, alpha=0.9):
    s_previous = state.get("s", g * g)
    state["s"] = alpha * s_previous + (1 - alpha) * g * g
    return w - lr * g / s_previous.sqrt()
'''


MUTANTS = {
    # --- SGD and the sheet's gradient
    "sgd: ascends instead of descending": ("proof-sgd-golden", "impl-sgd", '''
def sgd_step(w, g, state, lr):
    return w + lr * g
'''),
    "sgd: gradient without the factor 2": ("proof-sgd-golden", "sheet-data", '''
X_SHEET = torch.tensor([14, 86, 28, 51, 28, 29, 72, 62, 84, 15, 42, 62, 47, 35, 9,
                        38, 44, 99, 13, 21, 28, 20, 8, 64, 99, 70, 27, 17, 8], dtype=DTYPE)
Y_SHEET = 2 * X_SHEET + 30
START = (1.0, 1.0)
H = 0.01
EPOCHS = 40
def row_loss(a, b, x, y):
    return (a * x + b - y) ** 2
def row_gradient(w, x, y):
    a, b = w
    err = a * x + b - y
    return torch.stack([err * x, err])
def sheet_mse(w):
    return ((w[0] * X_SHEET + w[1] - Y_SHEET) ** 2).mean()
'''),
    "sgd vs torch: lr applied twice": ("proof-sgd-torch", "impl-sgd", '''
def sgd_step(w, g, state, lr):
    return w - lr * g * (1 + lr)
'''),
    # --- momentum
    "momentum: the sheet's average form where torch's sum form is meant": ("proof-momentum", "impl-momentum", '''
def momentum_step(w, g, state, lr, momentum):
    u = momentum * state.get("u", torch.zeros_like(w)) + (1 - momentum) * g
    state["u"] = u
    return w - lr * u

def sheet_momentum_step(w, g, state, lr=1e-4, beta=0.9):
    v = beta * state.get("v", torch.zeros_like(w)) + (1 - beta) * g
    state["v"] = v
    return w - lr * v
'''),
    "momentum: the sheet's form computed as a sum": ("proof-momentum", "impl-momentum", '''
def momentum_step(w, g, state, lr, momentum):
    u = momentum * state.get("u", torch.zeros_like(w)) + g
    state["u"] = u
    return w - lr * u

def sheet_momentum_step(w, g, state, lr=1e-4, beta=0.9):
    v = beta * state.get("v", torch.zeros_like(w)) + g
    state["v"] = v
    return w - lr * v
'''),
    "momentum: step before updating the velocity": ("proof-momentum", "impl-momentum", '''
def momentum_step(w, g, state, lr, momentum):
    u = state.get("u", torch.zeros_like(w))
    state["u"] = momentum * u + g
    return w - lr * (u + g)

def sheet_momentum_step(w, g, state, lr=1e-4, beta=0.9):
    v = beta * state.get("v", torch.zeros_like(w)) + (1 - beta) * g
    state["v"] = v
    return w - lr * v
'''),
    # --- Nesterov
    "nesterov: plain momentum, no look-ahead": ("proof-nesterov", "impl-nesterov", '''
def nesterov_step(w, g, state, lr, momentum):
    u = momentum * state.get("u", torch.zeros_like(w)) + g
    state["u"] = u
    return w - lr * u

def sheet_nesterov_step(w, g, state, lr=1e-4, beta=0.9):
    v = beta * state.get("v", torch.zeros_like(w)) + (1 - beta) * g
    state["v"] = v
    return w - lr * ((1 - beta) * g + beta * v)
'''),
    "nesterov: look-ahead with the old velocity": ("proof-nesterov", "impl-nesterov", '''
def nesterov_step(w, g, state, lr, momentum):
    u_old = state.get("u", torch.zeros_like(w))
    state["u"] = momentum * u_old + g
    return w - lr * (g + momentum * u_old)

def sheet_nesterov_step(w, g, state, lr=1e-4, beta=0.9):
    v = beta * state.get("v", torch.zeros_like(w)) + (1 - beta) * g
    state["v"] = v
    return w - lr * ((1 - beta) * g + beta * v)
'''),
}

ADAGRAD_REST = '''
def sheet_adagrad_step(w, g, state, lr=0.001):
    state["lr_eff"] = lr / state["scale"]
    return w - state["lr_eff"] * g

def sheet_adagrad_end_of_epoch(state, rows):
    grads = torch.tensor(rows[["de/da", "de/db"]].to_numpy())
    state["scale"] = grads.pow(2).sum(dim=0).sqrt() / len(rows)
'''
MUTANTS.update({
    "adagrad: lr_decay ignored": ("proof-adagrad", "impl-adagrad", '''
def adagrad_step(w, g, state, lr, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0):
    G = state.get("G", torch.full_like(w, initial_accumulator_value)) + g * g
    state["G"] = G
    state["lr_eff"] = lr / (G.sqrt() + eps)
    return w - state["lr_eff"] * g
''' + ADAGRAD_REST),
    "adagrad: eps inside the square root": ("proof-adagrad", "impl-adagrad", '''
def adagrad_step(w, g, state, lr, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0):
    t = state["t"] = state.get("t", 0) + 1
    G = state.get("G", torch.full_like(w, initial_accumulator_value)) + g * g
    state["G"] = G
    state["lr_eff"] = lr / (1 + (t - 1) * lr_decay) / (G + eps).sqrt()
    return w - state["lr_eff"] * g
''' + ADAGRAD_REST),
    "adagrad: initial accumulator ignored": ("proof-adagrad", "impl-adagrad", '''
def adagrad_step(w, g, state, lr, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0):
    t = state["t"] = state.get("t", 0) + 1
    G = state.get("G", torch.zeros_like(w)) + g * g
    state["G"] = G
    state["lr_eff"] = lr / (1 + (t - 1) * lr_decay) / (G.sqrt() + eps)
    return w - state["lr_eff"] * g
''' + ADAGRAD_REST),
    "adagrad: a decaying average (RMSProp) instead of a sum": ("proof-adagrad", "impl-adagrad", '''
def adagrad_step(w, g, state, lr, lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0):
    t = state["t"] = state.get("t", 0) + 1
    G = 0.9 * state.get("G", torch.full_like(w, initial_accumulator_value)) + 0.1 * g * g
    state["G"] = G
    state["lr_eff"] = lr / (1 + (t - 1) * lr_decay) / (G.sqrt() + eps)
    return w - state["lr_eff"] * g
''' + ADAGRAD_REST),
    # --- the annealed adagrad tab
    "adagrad_ann: H measured with this epoch's gradients against the old scale (a rule that can fire)": (
        "proof-adagrad-ann", "impl-adagrad-ann", edited_cell(
            NB, "impl-adagrad-ann", "sheet_adagrad_end_of_epoch(state, rows)  # this",
            "state['old'] = state['scale']; sheet_adagrad_end_of_epoch(state, rows)  # this").replace(
            'return (histgrad * (state["lr"] / histgrad)).sum().item()',
            'return (histgrad * (state["lr"] / state.get("old", histgrad))).sum().item()')),
    "adagrad_ann: the macro does not refresh histgrad": ("proof-adagrad-ann", "impl-adagrad-ann", edited_cell(
        NB, "impl-adagrad-ann", "    sheet_adagrad_end_of_epoch(state, rows)  # this", "    # this")),
    # --- RMSProp
    "rmsprop: the workbook's sheet computed in torch's order": ("proof-rmsprop", "impl-rmsprop", edited_cell(
        NB, "impl-rmsprop", "return w - lr * g / s_previous.sqrt()", 'return w - lr * g / state["s"].sqrt()')),
    "rmsprop: the workbook's average never updated": ("proof-rmsprop", "impl-rmsprop", edited_cell(
        NB, "impl-rmsprop", 'state["s"] = alpha * s_previous + (1 - alpha) * g * g', 'state["s"] = s_previous')),
    "rmsprop: the workbook's order starting from s = 1": ("proof-rmsprop", "impl-rmsprop", edited_cell(
        NB, "impl-rmsprop", 'state.get("s", g * g)', 'state.get("s", torch.ones_like(w))')),
    "rmsprop: eps inside the square root": ("proof-rmsprop", "impl-rmsprop", '''
def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):
    s = alpha * state.get("s", torch.zeros_like(w)) + (1 - alpha) * g * g
    state["s"] = s
    return w - lr * g / (s + eps).sqrt()

''' + RMSPROP_REST),
    "rmsprop: alpha weights the new gradient": ("proof-rmsprop", "impl-rmsprop", '''
def rmsprop_step(w, g, state, lr, alpha=0.99, eps=1e-8):
    s = (1 - alpha) * state.get("s", torch.zeros_like(w)) + alpha * g * g
    state["s"] = s
    return w - lr * g / (s.sqrt() + eps)

''' + RMSPROP_REST),
})

ADAM_REST = '''
def sheet_adam_step(w, g, state):
    return adam_step(w, g, state, lr=1.0, betas=(0.7, 0.9), eps=0.0, bias_correction=False)

def sheet_adam_corrected_step(w, g, state):
    return adam_step(w, g, state, lr=1.0, betas=(0.7, 0.9), eps=0.0, bias_correction=True)
'''
MUTANTS.update({
    "adam: no bias correction": ("proof-adam", "impl-adam", '''
def adam_step(w, g, state, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True):
    beta1, beta2 = betas
    m = beta1 * state.get("m", torch.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * state.get("v", torch.zeros_like(w)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    return w - lr * m / (v.sqrt() + eps)
''' + ADAM_REST),
    "adam: bias correction of m only": ("proof-adam", "impl-adam", '''
def adam_step(w, g, state, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    m = beta1 * state.get("m", torch.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * state.get("v", torch.zeros_like(w)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    if bias_correction:
        m = m / (1 - beta1**t)
    return w - lr * m / (v.sqrt() + eps)
''' + ADAM_REST),
    "adam: eps added before the bias correction of sqrt(v)": ("proof-adam", "impl-adam", '''
def adam_step(w, g, state, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    m = beta1 * state.get("m", torch.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * state.get("v", torch.zeros_like(w)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    if not bias_correction:
        return w - lr * m / (v.sqrt() + eps)
    return w - lr * (m / (1 - beta1**t)) / ((v.sqrt() + eps) / math.sqrt(1 - beta2**t))
''' + ADAM_REST),
    "adam: eps inside the square root": ("proof-adam", "impl-adam", '''
def adam_step(w, g, state, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True):
    beta1, beta2 = betas
    t = state["t"] = state.get("t", 0) + 1
    m = beta1 * state.get("m", torch.zeros_like(w)) + (1 - beta1) * g
    v = beta2 * state.get("v", torch.zeros_like(w)) + (1 - beta2) * g * g
    state["m"], state["v"] = m, v
    if bias_correction:
        m, v = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m / (v + eps).sqrt()
''' + ADAM_REST),
})

EVE_REST = '''
def eve_step(w, g, state):
    return adam_step(w, g, state, lr=1.0 / state["d"], betas=(0.7, 0.9), eps=0.0, bias_correction=False)
'''
MUTANTS.update({
    "eve: relative change divided by the larger loss": ("proof-eve", "impl-eve", '''
def eve_update(d, f1, f2, beta=0.9):
    r = abs(f1 - f2) / max(f1, f2)
    return beta * d + (1 - beta) * r

def eve_end_of_epoch(state, rows):
    f = math.sqrt(rows["err²"].sum())
    f_before = state.get("f", f / 2)
    state["d"] = eve_update(state["d"], f, f_before)
    state["f"] = f
    state.setdefault("log", []).append({"loss f": f, "r": abs(f - f_before) / min(f, f_before), "d": state["d"]})
''' + EVE_REST),
    "eve: no reset (first r = 0 instead of 1)": ("proof-eve", "impl-eve", '''
def eve_update(d, f1, f2, beta=0.9):
    r = abs(f1 - f2) / min(f1, f2)
    return beta * d + (1 - beta) * r

def eve_end_of_epoch(state, rows):
    f = math.sqrt(rows["err²"].sum())
    f_before = state.get("f", f)
    state["d"] = eve_update(state["d"], f, f_before)
    state["f"] = f
    state.setdefault("log", []).append({"loss f": f, "r": abs(f - f_before) / min(f, f_before), "d": state["d"]})
''' + EVE_REST),
})

ANNEAL_REST = '''
def adam_ann_step(w, g, state):
    return adam_step(w, g, state, lr=state["lr"], betas=(0.9, 0.95), eps=0.0, bias_correction=False)

def adam_ann_end_of_epoch(state, rows):
    g2 = state["v"].sqrt().sum().item()
    lr_before, best_before = state["lr"], state["best"]
    state["lr"], state["best"] = anneal_lr(lr_before, g2, best_before)
    state.setdefault("log", []).append({"g2": g2, "best before": best_before, "lr before": lr_before,
                                        "lr after": state["lr"]})
'''
MUTANTS.update({
    "adagrad: one accumulator shared by both weights": ("proof-adagrad", "impl-adagrad", edited_cell(
        NB, "impl-adagrad", "G = state.get(\"G\", torch.full_like(w, initial_accumulator_value)) + g * g",
        "G = state.get(\"G\", torch.full_like(w, initial_accumulator_value)) + (g * g).sum()")),
    "eve: the step multiplied by d instead of divided": ("proof-eve", "impl-eve", edited_cell(
        NB, "impl-eve", 'lr=1.0 / state["d"]', 'lr=state["d"]')),
    "eve: d grows with a steady relative change (1 - beta weights the old d)": ("proof-eve", "impl-eve", edited_cell(
        NB, "impl-eve", "return beta * d + (1 - beta) * r", "return (1 - beta) * d + beta * r")),
    "anneal: the sheet's macro measures g2 from the wrong moment (m instead of v)": (
        "proof-anneal", "impl-anneal", edited_cell(NB, "impl-anneal", 'g2 = state["v"].sqrt().sum().item()',
                                                   'g2 = state["m"].abs().sum().item()')),
    "schedules: 1/t decay one step early": ("proof-schedules", "impl-schedules", edited_cell(
        NB, "impl-schedules", "return lr0 / (1 + k * t)", "return lr0 / (1 + k * (t + 1))")),
    "schedules: 1/sqrt(t) without the square root": ("proof-schedules", "impl-schedules", edited_cell(
        NB, "impl-schedules", "return lr0 / math.sqrt(1 + k * t)", "return lr0 / (1 + k * t)")),
    "anneal: divides by 2": ("proof-anneal", "impl-anneal", '''
def anneal_lr(lr, g2, best):
    if g2 / best > 2:
        lr = lr / 2
    return lr, min(best, g2)
''' + ANNEAL_REST),
    "anneal: compares with the previous epoch, not the running minimum": ("proof-anneal", "impl-anneal", '''
def anneal_lr(lr, g2, best):
    if g2 / best > 2:
        lr = lr / 4
    return lr, g2
''' + ANNEAL_REST),
    "anneal: 'at least double' instead of 'more than double'": ("proof-anneal", "impl-anneal", '''
def anneal_lr(lr, g2, best):
    if g2 / best >= 2:
        lr = lr / 4
    return lr, min(best, g2)
''' + ANNEAL_REST),
    "anneal: never cuts": ("proof-anneal", "impl-anneal", '''
def anneal_lr(lr, g2, best):
    return lr, min(best, g2)
''' + ANNEAL_REST),
    # --- momentum on the ill-conditioned valley
    "valley: momentum that forgets its velocity": ("proof-valley", "impl-momentum", '''
def momentum_step(w, g, state, lr, momentum):
    return w - lr * g
'''),
    # --- Newton
    "nesterov bound: torch's Nesterov replaced by heavy-ball momentum": ("proof-nesterov-bound", "impl-nesterov", '''
def nesterov_step(w, g, state, lr, momentum):
    u = momentum * state.get("u", torch.zeros_like(w)) + g
    state["u"] = u
    return w - lr * u
'''),
    "nesterov bound: the heavy-ball bound 2(1 + mu)": ("proof-nesterov-bound", "impl-nesterov-bound", edited_cell(
        NB, "impl-nesterov-bound", '"Nesterov": 2 * (1 + momentum) / (1 + 2 * momentum)',
        '"Nesterov": 2 * (1 + momentum)')),
    "nesterov bound: plain SGD's bound 2": ("proof-nesterov-bound", "impl-nesterov-bound", edited_cell(
        NB, "impl-nesterov-bound", '"Nesterov": 2 * (1 + momentum) / (1 + 2 * momentum)', '"Nesterov": 2.0')),
    "newton: the gradient only": ("proof-newton", "impl-newton", '''
def newton_step(f, w):
    return w - gradient(f, w)
'''),
    "newton: diagonal of the Hessian only": ("proof-newton", "impl-newton", '''
def newton_step(f, w):
    hessian = torch.autograd.functional.hessian(f, w)
    return w - gradient(f, w) / hessian.diagonal()
'''),
    # --- schedules
    "schedules: step decay one epoch early": ("proof-schedules", "impl-schedules", '''
def step_decay(lr0, t, step_size=10, gamma=0.5):
    return lr0 * gamma ** ((t + 1) // step_size)

def exponential_decay(lr0, t, gamma=0.9):
    return lr0 * gamma**t
'''),
    "schedules: exponential decay starts decayed": ("proof-schedules", "impl-schedules", '''
def step_decay(lr0, t, step_size=10, gamma=0.5):
    return lr0 * gamma ** (t // step_size)

def exponential_decay(lr0, t, gamma=0.9):
    return lr0 * gamma ** (t + 1)
'''),
})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a diverging mutant overflows on its way to failing
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_proof_fails_on_a_wrong_variant(name):
    proof, tag, source = MUTANTS[name]
    with pytest.raises(AssertionError):
        run(proof, replace={tag: source})


INTERPOLATION_MUTANTS = {
    "interpolation from the trained to the initial weights": '''
@torch.no_grad()
def loss_along_line(model, theta0, theta1, alphas, data):
    losses = []
    for alpha in alphas:
        nn.utils.vector_to_parameters(alpha * theta0 + (1 - alpha) * theta1, model.parameters())
        losses.append(ck.evaluate(model, data)["loss"])
    nn.utils.vector_to_parameters(theta1, model.parameters())
    return np.array(losses)

alphas = np.arange(-2, 13) / 10
train_curve = loss_along_line(mlp, theta_init, theta_trained, alphas, (train_images, train_labels))
''',
    "alpha ignored (always the trained weights)": '''
@torch.no_grad()
def loss_along_line(model, theta0, theta1, alphas, data):
    nn.utils.vector_to_parameters(theta1, model.parameters())
    return np.array([ck.evaluate(model, data)["loss"] for _ in alphas])

alphas = np.arange(-2, 13) / 10
train_curve = loss_along_line(mlp, theta_init, theta_trained, alphas, (train_images, train_labels))
''',
}


@pytest.mark.parametrize("name", sorted(INTERPOLATION_MUTANTS))
def test_interpolation_proof_fails_on_a_wrong_variant(name):
    with pytest.raises(AssertionError):
        exec_cells(NB, INTERPOLATION, replace={"interp-train": TOY_TRAINING,
                                               "impl-interpolation": INTERPOLATION_MUTANTS[name]})
