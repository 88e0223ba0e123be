using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Lab;

/// <summary>Observables that <c>lmech train --observe</c> can record during training.</summary>
public static class TrainingObservables
{
    public static readonly string[] Names =
        ["accuracy", "test", "ntk", "sharpness", "trace", "density", "weights", "cka", "nfa", "collapse", "conservation"];

    public static string[] Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant()).ToArray();
        foreach (var i in items)
            if (!Names.Contains(i)) throw new BadInputException($"Unknown observable '{i}'. Allowed: {string.Join(", ", Names)}.");
        return items;
    }
}

/// <summary>Everything <c>lmech train</c> needs: architecture, data, loss and optimiser, observables, files.</summary>
public sealed record TrainingJob(
    NetworkSpec Spec, Dataset Train, Loss Loss, OptimizerSettings Optimizer, int Steps,
    int Batch = 0, LearningRateSchedule? Schedule = null, bool Float32 = false, ulong Seed = 42,
    bool ZeroReadout = false, string? InitWeights = null, string? SaveWeights = null, Dataset? Test = null,
    IReadOnlyList<string>? Observe = null, int ObserveEvery = 0, string OutDir = "lmech-results", string Id = "train",
    double TargetLoss = 0);

/// <summary>
/// Trains one network as described by a <see cref="TrainingJob"/> and stores the run like a gallery experiment:
/// <c>DIR/&lt;id&gt;/result.json</c> (series.step and series.loss, plus an <c>observables</c> table), CSV, report with the
/// loss curve and observable plots, a row in results.db. Divergence is a recorded status, not an error.
/// </summary>
public static class TrainingRun
{
    public static RunRecord Run(TrainingJob job, IProgress<ProgressInfo>? progress = null, CancellationToken ct = default) =>
        job.Float32 ? Run<float>(job, progress, ct) : Run<double>(job, progress, ct);

    private static RunRecord Run<T>(TrainingJob job, IProgress<ProgressInfo>? progress, CancellationToken ct) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var observe = job.Observe ?? [];
        if (observe.Contains("collapse") && job.Train.Labels is null) throw new BadInputException("Observable 'collapse' needs class labels (cross-entropy on one-hot targets).");
        if (observe.Contains("accuracy") && job.Train.OutputDim < 2) throw new BadInputException("Observable 'accuracy' needs one output per class.");
        if (observe.Contains("test") && job.Test is null) throw new BadInputException("Observable 'test' needs test data (--x-test/--y-test, or a built-in data set).");
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var net = new Network<T>(job.Spec, job.Train.InputDim, job.ZeroReadout);
        if (net.OutputDim != job.Train.OutputDim)
            throw new BadInputException($"The architecture has {net.OutputDim} outputs but the targets have {job.Train.OutputDim} columns.");
        if (job.InitWeights is { } init) NetworkWeights.Load(net, init);
        else net.Initialize(new Rng(job.Seed).Split(1));
        var options = new TrainingOptions(job.Loss, job.Optimizer, job.Steps, job.Batch, job.Schedule, job.Seed, job.TargetLoss);
        var trainer = new Trainer<T>(net, job.Train, options);
        var recorder = new Recorder<T>(net, job, observe);
        int every = job.ObserveEvery > 0 ? job.ObserveEvery : Math.Max(1, job.Steps / 20);
        var result = trainer.Run(observe.Count > 0 ? s => recorder.Record(s.Step, s.Loss) : null, every, progress, ct);
        if (observe.Count > 0 && result.Status != TrainingStatus.Diverged) recorder.Record(result.StepsTaken, result.FinalLoss ?? double.NaN);
        if (job.SaveWeights is { } save && result.Status != TrainingStatus.Diverged) NetworkWeights.Save(net, save);

        var output = new ExperimentOutput();
        output.Tables[ExperimentOutput.TopLevelSeries] = new SeriesTable()
            .Add("step", result.Steps.Select(s => (double)s).ToArray())
            .Add("loss", [.. result.Losses]);
        output.Plots.Add(new PlotSpec("Training loss", "step", $"{job.Loss.Name} (batch)",
            [new SeriesSpec("loss", result.Steps.Select(s => (double)s).ToArray(), [.. result.Losses], SeriesKind.Line)], LogY: result.Losses.All(l => l > 0),
            Caption: result.Status == TrainingStatus.Diverged ? result.Note : null));
        recorder.AddTo(output);
        var f = output.Facts;
        f["arch"] = job.Spec.ToText(); f["param"] = job.Spec.Param.ToText();
        f["sw2"] = Num(job.Spec.Sw2); f["sb2"] = Num(job.Spec.Sb2);
        f["dtype"] = job.Float32 ? "float32" : "float64";
        f["loss"] = job.Loss.Name; f["optimizer"] = job.Optimizer.Kind.ToString().ToLowerInvariant();
        f["lr"] = Num(job.Optimizer.LearningRate); f["weight_decay"] = Num(job.Optimizer.WeightDecay);
        f["steps"] = job.Steps.ToString(CultureInfo.InvariantCulture);
        f["batch"] = (job.Batch == 0 ? job.Train.Count : job.Batch).ToString(CultureInfo.InvariantCulture);
        f["schedule"] = (job.Schedule ?? LearningRateSchedule.Constant).ToString();
        f["data"] = job.Train.Name; f["n_train"] = job.Train.Count.ToString(CultureInfo.InvariantCulture);
        f["parameters"] = net.ParameterCount.ToString(CultureInfo.InvariantCulture);
        f["zero_readout"] = job.ZeroReadout ? "true" : "false";
        if (job.InitWeights is not null) f["init"] = Path.GetFullPath(job.InitWeights);
        if (job.SaveWeights is not null) f["saved_weights"] = result.Status == TrainingStatus.Diverged ? "(not saved: diverged)" : Path.GetFullPath(job.SaveWeights);
        f["status"] = result.StatusText;
        f["steps_taken"] = result.StepsTaken.ToString(CultureInfo.InvariantCulture);
        if (result.DivergedAt is { } at) f["diverged_at_step"] = at.ToString(CultureInfo.InvariantCulture);
        if (result.Note is not null) f["note"] = result.Note;
        if (result.FinalLoss is { } fl) f["final_train_loss"] = Num(fl);
        f["blas"] = Blas.Backend;
        output.Timings["train_s"] = result.Seconds;
        output.Timings["steps_per_s"] = result.StepsTaken / Math.Max(result.Seconds, 1e-9);
        output.Timings["observables_s"] = recorder.Seconds;

        var run = new RunRecord($"{job.Id}-{started:yyyyMMdd'T'HHmmssfff'Z'}-s{job.Seed}", job.Id, "Training run",
            $"{job.Spec.ToText()} ({job.Spec.Param.ToText()}) trained with {f["optimizer"]}, η = {f["lr"]}, on {job.Train.Name}: {result.StatusText}",
            "lmech train", RunRecord.LibraryVersion, job.Seed, RunMode.Quick, new Dictionary<string, string>(f), output, started,
            clock.Elapsed.TotalSeconds, Path.Combine(job.OutDir, job.Id));
        Runner.Save(run, job.OutDir);
        return run;
    }

    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Computes the requested observables on float64 copies of the network (observables are float64).</summary>
    private sealed class Recorder<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Network<T> net;
        private readonly Network<double> mirror;
        private readonly TrainingJob job;
        private readonly IReadOnlyList<string> observe;
        private readonly Dataset probe;
        private readonly Dictionary<string, List<double>> columns = [];
        private readonly Stopwatch clock = new();
        private Matrix? ntk0, features0;
        private List<Conservation.Junction>? conserved0;
        private EmpiricalNtk? ntk;
        private List<WeightSpectrum>? lastSpectra;
        private SpectralDensity? firstDensity, lastDensity;

        public double Seconds => clock.Elapsed.TotalSeconds;

        public Recorder(Network<T> net, TrainingJob job, IReadOnlyList<string> observe)
        {
            this.net = net; this.job = job; this.observe = observe;
            mirror = typeof(T) == typeof(double) ? (Network<double>)(object)net : new Network<double>(job.Spec, job.Train.InputDim, job.ZeroReadout);
            // Kernel, Hessian and representation observables use at most 256 training points (the first ones).
            probe = job.Train.Take(256);
        }

        private void Add(string name, double v) { if (!columns.TryGetValue(name, out var c)) columns[name] = c = []; c.Add(v); }

        public void Record(int step, double loss)
        {
            clock.Start();
            if (!ReferenceEquals(mirror, net))
                for (int i = 0; i < net.Parameters.Length; i++) mirror.Parameters[i] = double.CreateTruncating(net.Parameters[i]);
            Add("step", step);
            foreach (var o in observe)
                switch (o)
                {
                    case "accuracy": Add("train_accuracy", Accuracy(job.Train)); break;
                    case "test":
                        Add("test_loss", job.Loss.Value<double>(Trainer<double>.Predict(mirror, job.Test!.X).Data, job.Test.Y.Data, job.Test.Count));
                        if (job.Test.OutputDim >= 2) Add("test_accuracy", Accuracy(job.Test));
                        break;
                    case "ntk":
                        {
                            var x = probe.Take(64);
                            ntk ??= new EmpiricalNtk(mirror, x.Count);
                            var k = ntk.Compute(x.X);
                            ntk0 ??= k;
                            Add("ntk_distance", EmpiricalNtk.Distance(ntk0, k));
                            Add("ntk_alignment", EmpiricalNtk.Alignment(k, x.Y.Data.Where((_, i) => i % x.OutputDim == 0).ToArray()));
                            break;
                        }
                    case "sharpness": Add("sharpness", new Hessian(mirror, probe, job.Loss).Sharpness(20, new Rng(job.Seed).Split(7, (ulong)step))); break;
                    case "trace":
                        {
                            var (t, se) = new Hessian(mirror, probe, job.Loss).HutchinsonTrace(10, new Rng(job.Seed).Split(8, (ulong)step));
                            Add("hessian_trace", t); Add("hessian_trace_se", se);
                            break;
                        }
                    case "density":
                        {
                            // Stochastic Lanczos quadrature: 4 probes × 30 steps; the first and last are plotted.
                            var dens = new Hessian(mirror, probe, job.Loss).Density(4, 30, new Rng(job.Seed).Split(9, (ulong)step));
                            firstDensity ??= dens;
                            lastDensity = dens;
                            Add("hessian_mean_eigenvalue", dens.Integrate(t => t));
                            break;
                        }
                    case "weights":
                        lastSpectra = Enumerable.Range(0, mirror.DenseCount).Where(d => Math.Min(mirror.Tensors[2 * d].Shape[0], mirror.Tensors[2 * d].Shape[1]) >= 2)
                            .Select(d => WeightSpectrum.Analyse(mirror.Tensors[2 * d].Name, mirror.EffectiveWeight(d))).ToList();
                        foreach (var s in lastSpectra)
                        {
                            string layer = s.Name.Replace(".weight", "", StringComparison.Ordinal).Replace("layers.", "layer", StringComparison.Ordinal);
                            Add($"{layer}_top_sv", s.SingularValues[0]); Add($"{layer}_outliers", s.Outliers.Length);
                            Add($"{layer}_mp_sigma2", s.Sigma2); Add($"{layer}_tail_alpha", s.TailAlpha);
                        }
                        break;
                    case "cka":
                        {
                            var h = Representations.Penultimate(mirror, probe.X);
                            features0 ??= h;
                            Add("cka_to_init", Cka.Linear(features0, h));
                            break;
                        }
                    case "nfa":
                        {
                            var r = FeatureAnsatz.Measure(mirror, probe.X);
                            Add("nfa_cosine", r.Cosine); Add("nfa_pearson", r.Pearson);
                            break;
                        }
                    case "collapse":
                        {
                            var r = NeuralCollapse.Measure(mirror, probe.X, probe.Labels!, probe.Classes);
                            Add("nc1", r.Nc1); Add("nc2", r.Nc2); Add("nc3", r.Nc3); Add("nc4", r.Nc4);
                            break;
                        }
                    case "conservation":
                        {
                            var c = Conservation.Measure(mirror);
                            conserved0 ??= c;
                            double drift = 0;
                            for (int j = 0; j < c.Count; j++)
                                drift = Math.Max(drift, c[j].PerNeuron.Zip(conserved0[j].PerNeuron).Max(p => Math.Abs(p.First - p.Second)));
                            Add("conservation_drift", c.Count == 0 ? double.NaN : drift);
                            break;
                        }
                }
            clock.Stop();
        }

        private double Accuracy(Dataset d)
        {
            var f = Trainer<double>.Predict(mirror, d.X);
            int right = 0;
            for (int i = 0; i < d.Count; i++)
            {
                var row = f.Row(i); var y = d.Y.Row(i);
                int a = 0, b = 0;
                for (int c = 1; c < row.Length; c++) { if (row[c] > row[a]) a = c; if (y[c] > y[b]) b = c; }
                if (a == b) right++;
            }
            return (double)right / d.Count;
        }

        public void AddTo(ExperimentOutput output)
        {
            if (!columns.TryGetValue("step", out var steps) || steps.Count == 0) return;
            var table = new SeriesTable();
            foreach (var (name, values) in columns) table.Add(name, [.. values]);
            output.Tables["observables"] = table;
            var x = steps.ToArray();
            foreach (var (name, values) in columns)
                if (name != "step" && !name.EndsWith("_se", StringComparison.Ordinal))
                    output.Plots.Add(new PlotSpec(name.Replace('_', ' '), "step", name, [new SeriesSpec(name, x, [.. values], SeriesKind.Line)]));
            if (firstDensity is not null && lastDensity is not null)
            {
                double lo = Math.Min(firstDensity.Nodes.Min(), lastDensity.Nodes.Min()), hi = Math.Max(firstDensity.Nodes.Max(), lastDensity.Nodes.Max());
                double width = Math.Max(hi - lo, 1e-12), sigma = width / 100;
                var grid = Enumerable.Range(0, 400).Select(i => lo - 0.05 * width + 1.1 * width * i / 399).ToArray();
                output.Plots.Add(new PlotSpec("Hessian spectral density (stochastic Lanczos quadrature)", "eigenvalue", "density", [
                    new SeriesSpec("initial: density", grid, grid.Select(t => firstDensity.At(t, sigma)).ToArray(), SeriesKind.Line),
                    new SeriesSpec("final: density", grid, grid.Select(t => lastDensity.At(t, sigma)).ToArray(), SeriesKind.Line)],
                    Caption: $"4 random probes × 30 Lanczos steps each, Gaussian smoothing σ = {sigma:G3}; ≤ 256 training points."));
            }
            if (lastSpectra is not null)
                foreach (var s in lastSpectra.Where(s => s.Eigenvalues.Length >= 8))
                {
                    var sorted = s.Eigenvalues.OrderBy(v => v).ToArray();
                    var rank = Enumerable.Range(1, sorted.Length).Select(i => (double)i).ToArray();
                    output.Plots.Add(new PlotSpec($"Final spectrum of {s.Name}", "eigenvalue λ = s²/n", "rank (ascending)",
                        [new SeriesSpec("eigenvalues", sorted, rank, SeriesKind.Points)],
                        Caption: $"MP fit σ² = {s.Sigma2:G4}, bulk edge {s.BulkEdge:G4}, {s.Outliers.Length} outliers, tail α = {s.TailAlpha:G3}."));
                }
        }
    }
}
