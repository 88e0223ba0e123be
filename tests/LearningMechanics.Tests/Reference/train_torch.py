"""Reference training in PyTorch (float64) for TorchReferenceTests.

Reads a job directory written by the C# test: weights.safetensors (parsed here with struct+json, independently of
lmech's reader), x.npy, y.npy and job.json (architecture as a list of ops with the multipliers and learning-rate
factors of each tensor, optimiser settings and the batch rows of every step). Trains with torch.optim and prints the
batch losses as JSON.
"""
import json, struct, sys
import numpy as np
import torch

job_dir = sys.argv[1]
torch.set_default_dtype(torch.float64)
job = json.load(open(f"{job_dir}/job.json"))

with open(f"{job_dir}/weights.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
tensors = {}
for name, e in header.items():
    if name == "__metadata__":
        continue
    b, end = e["data_offsets"]
    fmt = {"F64": "d", "F32": "f"}[e["dtype"]]
    vals = np.frombuffer(data[b:end], dtype="<" + fmt).astype(np.float64)
    tensors[name] = torch.tensor(vals.reshape(e["shape"]), requires_grad=True)

x = torch.tensor(np.load(f"{job_dir}/x.npy"))
y = torch.tensor(np.load(f"{job_dir}/y.npy"))

def forward(h):
    stack = []
    for op in job["ops"]:
        kind = op["kind"]
        if kind == "dense":
            w, b = tensors[op["weight"]], tensors[op["bias"]]
            h = op["mw"] * (h @ w.T) + op["mb"] * b
        elif kind == "tanh":
            h = torch.tanh(h)
        elif kind == "relu":
            h = torch.relu(h)
        elif kind == "layernorm":
            h = torch.nn.functional.layer_norm(h, (h.shape[-1],), eps=1e-5)
        elif kind == "skip":
            stack.append(h)
        elif kind == "add":
            h = stack.pop() + op["scale"] * h
        else:
            raise ValueError(kind)
    return h

opt_name = job["optimizer"]
groups = [{"params": [tensors[name]], "lr": job["lr"] * factor} for name, factor in job["lr_factors"].items()]
wd = job["weight_decay"]
if opt_name in ("gd", "sgd"):
    opt = torch.optim.SGD(groups, lr=job["lr"], weight_decay=wd)
elif opt_name == "momentum":
    opt = torch.optim.SGD(groups, lr=job["lr"], momentum=job["momentum"], weight_decay=wd)
else:
    opt = torch.optim.Adam(groups, lr=job["lr"], betas=(job["beta1"], job["beta2"]), eps=job["eps"], weight_decay=wd)

losses = []
for rows in job["batches"]:
    idx = torch.tensor(rows)
    f = forward(x[idx])
    t = y[idx]
    if job["loss"] == "mse":
        loss = ((f - t) ** 2).mean()
    else:
        loss = -(t * torch.log_softmax(f, dim=1)).sum(dim=1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(json.dumps(losses))
