using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Training;

public enum TrainingStatus { Completed, TargetReached, Diverged, Cancelled }

/// <summary>
/// What to train for: the loss, optimiser, number of steps, mini-batch size (0 = full batch, i.e. GD), schedule and the
/// stopping rules (stop once the training loss is ≤ <see cref="TargetLoss"/>; declare divergence when a loss or
/// gradient is not finite or the loss exceeds <see cref="DivergenceFactor"/> × the first loss).
/// </summary>
public sealed record TrainingOptions(Loss Loss, OptimizerSettings Optimizer, int Steps, int Batch = 0,
    LearningRateSchedule? Schedule = null, ulong Seed = 0, double TargetLoss = 0, double DivergenceFactor = 1e8)
{
    public TrainingOptions Validated(int dataCount)
    {
        Optimizer.Validated();
        if (Steps < 0) throw new BadInputException($"Number of steps {Steps} must be ≥ 0.");
        if (Batch < 0 || Batch > dataCount)
            throw new BadInputException(
                $"Batch size {Batch} must be in 1…{dataCount} (the number of training points), or 0 for the full batch.");
        if (Optimizer.Kind == OptimizerKind.Gd && Batch != 0 && Batch != dataCount)
            throw new BadInputException($"Optimiser gd uses the full batch; got batch size {Batch}. Use --opt sgd for mini-batches.");
        if (!(DivergenceFactor > 1)) throw new BadInputException($"Divergence factor {DivergenceFactor} must be > 1.");
        return this;
    }
}

/// <summary>The state passed to a callback: the step about to be taken (parameters θ_t), its batch loss and learning rate.</summary>
public sealed class TrainingState<T>(Network<T> network, int[] batchRows) where T : unmanaged, IFloatingPointIeee754<T>
{
    public Network<T> Network { get; } = network;
    public int Step { get; internal set; }
    public double Loss { get; internal set; }
    public double LearningRate { get; internal set; }
    /// <summary>Rows of the training set in this step's batch.</summary>
    public IReadOnlyList<int> BatchRows { get; } = batchRows;
    /// <summary>∂loss/∂θ of this batch (stored parameters), before the optimiser step.</summary>
    public T[] Gradient { get; internal set; } = [];
    /// <summary>The optimiser about to take the step (its state: e.g. Adam's preconditioner).</summary>
    public Optimizer<T>? Optimizer { get; internal set; }
}

/// <summary>Outcome of a run: status, loss series (step t: batch loss at θ_t), final full-data loss, timing.</summary>
public sealed class TrainingResult
{
    public TrainingStatus Status { get; internal set; }
    public int StepsTaken { get; internal set; }
    /// <summary>The step at which divergence was detected (null unless <see cref="Status"/> is Diverged).</summary>
    public int? DivergedAt { get; internal set; }
    public string? Note { get; internal set; }
    public List<int> Steps { get; } = [];
    public List<double> Losses { get; } = [];
    /// <summary>Loss on the whole training set after the last step (null when diverged).</summary>
    public double? FinalLoss { get; internal set; }
    public double Seconds { get; internal set; }
    public string StatusText => Status switch
    {
        TrainingStatus.Completed => "completed",
        TrainingStatus.TargetReached => "target_reached",
        TrainingStatus.Diverged => "diverged",
        _ => "cancelled",
    };
}

/// <summary>
/// The training loop: forward, loss, backward, optimiser step, with every buffer allocated once. Mini-batches are drawn
/// without replacement, a fresh permutation (from <see cref="TrainingOptions.Seed"/>) each epoch; the last incomplete
/// batch of an epoch is dropped, so every step has the same batch size.
/// </summary>
public sealed class Trainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Network<T> net;
    private readonly TrainingOptions o;
    private readonly T[] x;
    private readonly T[] y;
    private readonly int n;
    private readonly int batch;

    public Trainer(Network<T> net, Dataset data, TrainingOptions options)
    {
        net.RequireDifferentiable();
        data.Validated();
        if (data.InputDim != net.InputDim)
            throw new BadInputException($"Inputs have {data.InputDim} features but the architecture expects {net.InputDim}.");
        if (data.OutputDim != net.OutputDim)
            throw new BadInputException($"Targets have {data.OutputDim} columns but the network has {net.OutputDim} outputs.");
        if (options.Loss is CrossEntropyLoss && net.OutputDim < 2)
            throw new BadInputException("Cross-entropy needs at least 2 outputs (one per class).");
        this.net = net; o = options.Validated(data.Count);
        n = data.Count; batch = o.Batch == 0 ? n : o.Batch;
        x = Dataset.Convert<T>(data.X); y = Dataset.Convert<T>(data.Y);
    }

    /// <summary>Runs the loop; <paramref name="callback"/> sees the state every <paramref name="callbackEvery"/> steps
    /// (and at the last).</summary>
    public TrainingResult Run(Action<TrainingState<T>>? callback = null, int callbackEvery = 1, IProgress<ProgressInfo>? progress = null,
        CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var result = new TrainingResult { Status = TrainingStatus.Completed };
        var ws = net.CreateWorkspace(batch);
        var opt = new Optimizer<T>(net, o.Optimizer);
        var grad = new T[net.ParameterCount];
        var dOut = new T[batch * net.OutputDim];
        bool full = batch == n;
        var xb = full ? x : new T[batch * net.InputDim];
        var yb = full ? y : new T[batch * net.OutputDim];
        var perm = Enumerable.Range(0, n).ToArray();
        var rows = new int[batch];
        if (full) Array.Copy(perm, rows, n);
        var rng = new Rng(o.Seed).Split(0x5eed);
        var state = new TrainingState<T>(net, rows) { Gradient = grad, Optimizer = opt };
        var schedule = o.Schedule ?? LearningRateSchedule.Constant;
        int cursor = n;
        double first = double.NaN;
        for (int t = 0; t < o.Steps; t++)
        {
            if (ct.IsCancellationRequested) { result.Status = TrainingStatus.Cancelled; break; }
            if (!full)
            {
                if (cursor + batch > n) { Shuffle(perm, rng); cursor = 0; }
                for (int b = 0; b < batch; b++)
                {
                    int r = perm[cursor + b];
                    rows[b] = r;
                    x.AsSpan(r * net.InputDim, net.InputDim).CopyTo(xb.AsSpan(b * net.InputDim));
                    y.AsSpan(r * net.OutputDim, net.OutputDim).CopyTo(yb.AsSpan(b * net.OutputDim));
                }
                cursor += batch;
            }
            var f = net.Forward(xb, ws);
            double loss = o.Loss.Evaluate<T>(f, yb, batch, dOut);
            if (t == 0) first = loss;
            result.Steps.Add(t); result.Losses.Add(loss);
            if (!double.IsFinite(loss) || loss > o.DivergenceFactor * Math.Max(first, 1e-12))
            {
                Diverged(result, t, $"loss {loss:G4} at step {t} (first loss {first:G4})");
                break;
            }
            if (o.TargetLoss > 0 && loss <= o.TargetLoss) { result.Status = TrainingStatus.TargetReached; break; }
            net.Backward(ws, dOut, grad);
            if (!AllFinite(grad)) { Diverged(result, t, $"non-finite gradient at step {t}"); break; }
            double lr = o.Optimizer.LearningRate * schedule.Factor(t, o.Steps);
            if (callback is not null && (t % Math.Max(1, callbackEvery) == 0 || t == o.Steps - 1))
            {
                state.Step = t; state.Loss = loss; state.LearningRate = lr;
                callback(state);
            }
            opt.Step(net.Parameters, grad, lr);
            result.StepsTaken = t + 1;
            if (progress is not null && (t % 100 == 0 || t == o.Steps - 1)) progress.Report(new ProgressInfo("train", t + 1, o.Steps));
        }
        if (result.Status != TrainingStatus.Diverged)
        {
            double final = Evaluate(net, x, y, n, o.Loss);
            if (double.IsFinite(final)) result.FinalLoss = final;
            else Diverged(result, result.StepsTaken, $"final loss is {final}");
        }
        result.Seconds = sw.Elapsed.TotalSeconds;
        return result;
    }

    private static void Diverged(TrainingResult r, int step, string note)
    {
        r.Status = TrainingStatus.Diverged; r.DivergedAt = step; r.Note = "diverged: " + note;
    }

    /// <summary>Vectorised check: a NaN or ±∞ anywhere makes the sum non-finite (so would an overflowing sum, i.e.
    /// divergence).</summary>
    private static bool AllFinite(ReadOnlySpan<T> v) => T.IsFinite(TensorPrimitives.Sum(v));

    private static void Shuffle(int[] perm, Rng rng)
    {
        for (int i = perm.Length - 1; i > 0; i--) { int j = rng.NextInt(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
    }

    /// <summary>The loss of <paramref name="net"/> on N rows of inputs/targets, in chunks of at most 1024 rows.</summary>
    public static double Evaluate(Network<T> net, ReadOnlySpan<T> x, ReadOnlySpan<T> y, int count, Loss loss)
    {
        double total = 0;
        foreach (var (start, rows, ws) in Chunks(net, count))
        {
            var f = net.Forward(x.Slice(start * net.InputDim, rows * net.InputDim), ws);
            total += loss.Value<T>(f, y.Slice(start * net.OutputDim, rows * net.OutputDim), rows) * rows;
        }
        return total / count;
    }

    /// <summary>Network outputs for N rows (N × OutputDim, float64).</summary>
    public static Matrix Predict(Network<T> net, Matrix inputs)
    {
        var x = Dataset.Convert<T>(inputs);
        var result = new Matrix(inputs.Rows, net.OutputDim);
        foreach (var (start, rows, ws) in Chunks(net, inputs.Rows))
        {
            var f = net.Forward(x.AsSpan(start * net.InputDim, rows * net.InputDim), ws);
            for (int i = 0; i < f.Length; i++) result.Data[start * net.OutputDim + i] = double.CreateTruncating(f[i]);
        }
        return result;
    }

    private static IEnumerable<(int Start, int Rows, Network<T>.Workspace Ws)> Chunks(Network<T> net, int count)
    {
        const int chunk = 1024;
        Network<T>.Workspace? ws = null;
        for (int start = 0; start < count; start += chunk)
        {
            int rows = Math.Min(chunk, count - start);
            if (ws is null || ws.Batch != rows) ws = net.CreateWorkspace(rows);
            yield return (start, rows, ws);
        }
    }
}
