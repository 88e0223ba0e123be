"""Reference for the training benchmark: PyTorch steps of the same MLP (input 32, depth 4, batch 256, SGD, MSE).

usage: python3 train_step_torch.py WIDTH DTYPE THREADS [STEPS] [REPEATS]
prints the best mean seconds per step over REPEATS runs of STEPS steps (after a warm-up run).
"""
import sys, time
import torch

width, dtype, threads = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 100
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 5
torch.set_num_threads(threads)
dt = torch.float64 if dtype == "float64" else torch.float32
torch.manual_seed(0)
layers, d = [], 32
for _ in range(4):
    layers += [torch.nn.Linear(d, width), torch.nn.ReLU()]
    d = width
layers.append(torch.nn.Linear(d, 1))
net = torch.nn.Sequential(*layers).to(dt)
x = torch.randn(256, 32, dtype=dt)
y = torch.randn(256, 1, dtype=dt)
opt = torch.optim.SGD(net.parameters(), lr=1e-3)

def run(n):
    for _ in range(n):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

run(steps)
best = float("inf")
for _ in range(repeats):
    t0 = time.perf_counter()
    run(steps)
    best = min(best, (time.perf_counter() - t0) / steps)
print(f"{best:.9f}")
