using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab.Observables;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Lab;

/// <summary>Everything <c>lmech train</c> needs: architecture, data, loss and optimiser, observables, files.</summary>
public sealed record TrainingJob(
    NetworkSpec Spec, Dataset Train, Loss Loss, OptimizerSettings Optimizer, int Steps,
    int Batch = 0, LearningRateSchedule? Schedule = null, bool Float32 = false, ulong Seed = 42,
    bool ZeroReadout = false, string? InitWeights = null, string? SaveWeights = null, Dataset? Test = null,
    IReadOnlyList<string>? Observe = null, int ObserveEvery = 0, string OutDir = "lmech-results", string Id = "train",
    double TargetLoss = 0, int SaveEvery = 0, bool Force = false);

/// <summary>
/// Trains one network as described by a <see cref="TrainingJob"/> and stores the run like a gallery experiment:
/// <c>DIR/&lt;id&gt;/result.json</c> (series.step and series.loss, plus an <c>observables</c> table), CSV, report with the
/// loss curve and observable plots, a row in results.db. Divergence is a recorded status, not an error.
/// </summary>
public static class TrainingRun
{
    /// <summary>Random stream of the network's initialisation (unless weights are loaded).</summary>
    private const ulong InitStream = 1;

    public static RunRecord Run(TrainingJob job, IProgress<ProgressInfo>? progress = null, CancellationToken ct = default) =>
        job.Float32 ? Run<float>(job, progress, ct) : Run<double>(job, progress, ct);

    private static RunRecord Run<T>(TrainingJob job, IProgress<ProgressInfo>? progress, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var observables = (job.Observe ?? []).Select(TrainingObservables.Create).ToList();
        foreach (var o in observables) o.Check(job);
        // Nothing is trained before the places the results go are known to be writable.
        Runner.EnsureWritable(job.OutDir);
        if (job.SaveWeights is { } saveTo) Runner.EnsureWritable(Path.GetDirectoryName(Path.GetFullPath(saveTo))!, "--save FILE");
        string? checkpoints = job.SaveEvery > 0 ? Path.Combine(job.OutDir, job.Id, "checkpoints") : null;
        if (checkpoints is not null)
        {
            if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, true);   // a rerun's checkpoints replace the last run's
            Runner.EnsureWritable(checkpoints);
        }
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var net = new Network<T>(job.Spec, job.Train.InputDim, job.ZeroReadout);
        if (net.OutputDim != job.Train.OutputDim)
            throw new BadInputException(
                $"The architecture has {net.OutputDim} outputs but the targets have {job.Train.OutputDim} columns.");
        CheckResources(job, net.ParameterCount, net.Dims);
        if (job.InitWeights is { } init) NetworkWeights.Load(net, init);
        else net.Initialize(new Rng(job.Seed).Split(InitStream));
        var options = new TrainingOptions(job.Loss, job.Optimizer, job.Steps, job.Batch, job.Schedule, job.Seed, job.TargetLoss);
        var trainer = new Trainer<T>(net, job.Train, options);
        var recorder = new Recorder<T>(net, job, observables);
        int every = job.ObserveEvery > 0 ? job.ObserveEvery : Math.Max(1, job.Steps / 20);
        int digits = job.Steps.ToString(CultureInfo.InvariantCulture).Length;
        void Checkpoint(int step) => NetworkWeights.Save(net,
            Path.Combine(checkpoints!, $"step-{step.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0')}.safetensors"));
        // The trainer calls back at multiples of the common divisor (and before the last step, as observables expect).
        Action<TrainingState<T>>? callback = observables.Count == 0 && checkpoints is null ? null : s =>
        {
            if (observables.Count > 0 && (s.Step % every == 0 || s.Step == job.Steps - 1)) recorder.Record(s.Step);
            if (checkpoints is not null && s.Step % job.SaveEvery == 0) Checkpoint(s.Step);
        };
        var result = trainer.Run(callback, checkpoints is null ? every : Gcd(every, job.SaveEvery), progress, ct);
        if (observables.Count > 0 && result.Status != TrainingStatus.Diverged) recorder.Record(result.StepsTaken);
        if (checkpoints is not null && result.Status != TrainingStatus.Diverged) Checkpoint(result.StepsTaken);
        if (job.SaveWeights is { } save && result.Status != TrainingStatus.Diverged) NetworkWeights.Save(net, save);

        var output = new ExperimentOutput();
        var steps = result.Steps.Select(s => (double)s).ToArray();
        output.Tables[ExperimentOutput.TopLevelSeries] = new SeriesTable().Add("step", steps).Add("loss", [.. result.Losses]);
        output.Plots.Add(new PlotSpec("Training loss", "step", $"{job.Loss.Name} (batch)",
            [new SeriesSpec("loss", steps, [.. result.Losses], SeriesKind.Line)], LogY: result.Losses.All(l => l > 0),
            Caption: result.Status == TrainingStatus.Diverged ? result.Note : null));
        recorder.AddTo(output);
        var f = output.Facts;
        AddFacts(f, job, net.ParameterCount, result);
        output.Timings["train_s"] = result.Seconds;
        output.Timings["steps_per_s"] = result.StepsTaken / Math.Max(result.Seconds, 1e-9);
        output.Timings["observables_s"] = recorder.Seconds;

        var run = new RunRecord($"{job.Id}-{started:yyyyMMdd'T'HHmmssfff'Z'}-s{job.Seed}", job.Id, "Training run",
            $"{job.Spec.ToText()} ({job.Spec.Param.ToText()}) trained with {f["optimizer"]}, η = {f["lr"]}, on {job.Train.Name}: " +
            result.StatusText, "lmech train", RunRecord.LibraryVersion, job.Seed, RunMode.Quick, new Dictionary<string, string>(f), output,
            started, clock.Elapsed.TotalSeconds, Path.Combine(job.OutDir, job.Id));
        Runner.Save(run, job.OutDir);
        return run;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>
    /// Refuses a job beyond a lab run before any training: a layer buffer (batch × width) longer than an array can be; or, unless
    /// forced, more than <see cref="Runner.MaxFlops"/> operations (6 per weight and example per step, forward and backward) or
    /// more memory than <see cref="Runner.MaxBytes"/> (parameters with gradient and optimiser state, the layer buffers of a
    /// batch and of the full-data evaluation, each with its gradient).
    /// </summary>
    private static void CheckResources(TrainingJob job, int parameters, int[] dims)
    {
        int n = job.Train.Count;
        int batch = job.Batch > 0 ? job.Batch : n;
        long widest = dims.Max();
        if ((long)n * widest > Array.MaxLength)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"{n} training examples × the widest layer ({widest}) make a layer buffer of {(long)n * widest:N0} values, more ") +
                string.Create(CultureInfo.InvariantCulture, $"than an array holds ({Array.MaxLength:N0}): use fewer examples or a ") +
                "narrower network.");
        double flops = 6.0 * parameters * batch * job.Steps + 2.0 * parameters * n;
        double bytes = 8.0 * (4.0 * parameters + 2.0 * (batch + n) * dims.Sum(d => (double)d)
            + (double)n * (job.Train.InputDim + job.Train.OutputDim));
        if (!job.Force && Runner.Refusal("train", new ResourceEstimate(flops, bytes)) is { } why) throw new BadInputException(why);
    }

    /// <summary>The run's configuration: the job, the network's size and how training ended.</summary>
    private static void AddFacts(Dictionary<string, string> f, TrainingJob job, int parameters, TrainingResult result)
    {
        f["arch"] = job.Spec.ToText();
        f["param"] = job.Spec.Param.ToText();
        if (job.Spec.BaseWidth is { } n0) f["base_width"] = Num(n0);
        if (job.Spec.Gamma0 != 1) f["gamma0"] = Num(job.Spec.Gamma0);
        f["sw2"] = Num(job.Spec.Sw2);
        f["sb2"] = Num(job.Spec.Sb2);
        f["dtype"] = job.Float32 ? "float32" : "float64";
        f["loss"] = job.Loss.Name;
        f["optimizer"] = job.Optimizer.Kind.ToString().ToLowerInvariant();
        f["lr"] = Num(job.Optimizer.LearningRate);
        f["weight_decay"] = Num(job.Optimizer.WeightDecay);
        f["steps"] = job.Steps.ToString(CultureInfo.InvariantCulture);
        f["batch"] = (job.Batch == 0 ? job.Train.Count : job.Batch).ToString(CultureInfo.InvariantCulture);
        f["schedule"] = (job.Schedule ?? LearningRateSchedule.Constant).ToString();
        f["data"] = job.Train.Name;
        f["n_train"] = job.Train.Count.ToString(CultureInfo.InvariantCulture);
        f["parameters"] = parameters.ToString(CultureInfo.InvariantCulture);
        f["zero_readout"] = job.ZeroReadout ? "true" : "false";
        if (job.InitWeights is not null) f["init"] = Path.GetFullPath(job.InitWeights);
        if (job.SaveWeights is not null)
            f["saved_weights"] = result.Status == TrainingStatus.Diverged ? "(not saved: diverged)" : Path.GetFullPath(job.SaveWeights);
        f["status"] = result.StatusText;
        f["steps_taken"] = result.StepsTaken.ToString(CultureInfo.InvariantCulture);
        if (result.DivergedAt is { } at) f["diverged_at_step"] = at.ToString(CultureInfo.InvariantCulture);
        if (result.Note is not null) f["note"] = result.Note;
        if (result.FinalLoss is { } fl) f["final_train_loss"] = Num(fl);
        f["blas"] = Blas.Backend;
    }

    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
