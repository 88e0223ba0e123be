using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech predict</c>: predicted test outputs of an infinitely wide network trained on the given data, at a time or
/// converged (README.md, "Command line"). <c>--kernel ntk</c>: all layers trained by GD (NTK dynamics); <c>--kernel nngp</c>:
/// Bayesian posterior at <c>inf</c>, readout-only training (NNGP dynamics) at finite time.
/// </summary>
internal static class PredictCommand
{
    public static Command Build()
    {
        var arch = new Option<string>("--arch") { Description = "architecture, e.g. dense(512)-relu-dense(1)", Required = true };
        var kernel = new Option<string>("--kernel")
        {
            Description = "ntk (gradient descent on all layers) or nngp (Bayesian / readout only)",
            DefaultValueFactory = _ => "ntk",
        };
        var xTrain = new Option<string>("--x-train") { Description = "training inputs (.csv/.npy)", Required = true };
        var yTrain = new Option<string>("--y-train") { Description = "training targets, one row per input", Required = true };
        var xTest = new Option<string>("--x-test") { Description = "test inputs", Required = true };
        var time = new Option<string>("--time")
            { Description = "gradient-flow time t = η·steps, or inf", DefaultValueFactory = _ => "inf" };
        var steps = new Option<int?>("--steps") { Description = "discrete GD steps (with --lr) instead of --time" };
        var lr = new Option<double?>("--lr") { Description = "learning rate for --steps (MSE = mean over samples)" };
        var ridge = new Option<double>("--ridge")
            { Description = "ridge / observation-noise variance added to the kernel", DefaultValueFactory = _ => 0.0 };
        var param = new Option<string>("--param") { Description = "ntk or sp", DefaultValueFactory = _ => "ntk" };
        var sw2 = new Option<double>("--sw2") { Description = "σ_w²", DefaultValueFactory = _ => 1.0 };
        var sb2 = new Option<double>("--sb2") { Description = "σ_b²", DefaultValueFactory = _ => 0.0 };
        var output = new Option<string>("--out") { Description = "predicted means (.csv/.npy)", Required = true };
        var variance = new Option<string?>("--var") { Description = "predicted variances over initialisations / posterior (.csv/.npy)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cmd = new Command("predict", "Predicted outputs of the infinite-width network after training, without training it.")
            { arch, kernel, xTrain, yTrain, xTest, time, steps, lr, ridge, param, sw2, sb2, output, variance, json };
        cmd.SetAction(p => Run(p.GetValue(arch)!, p.GetValue(kernel)!, p.GetValue(xTrain)!, p.GetValue(yTrain)!, p.GetValue(xTest)!,
            p.GetValue(time)!, p.GetValue(steps), p.GetValue(lr), p.GetValue(ridge), p.GetValue(param)!, p.GetValue(sw2), p.GetValue(sb2),
            p.GetValue(output)!, p.GetValue(variance), p.GetValue(json)));
        return cmd;
    }

    private static int Run(string archText, string kind, string xTrainPath, string yTrainPath, string xTestPath, string timeText,
        int? steps, double? lr, double ridge, string param, double sw2, double sb2, string outPath, string? varPath, bool json)
    {
        kind = kind.ToLowerInvariant();
        if (kind is not ("ntk" or "nngp")) throw new BadInputException($"Unknown kernel '{kind}'. Allowed: ntk, nngp.");
        TrainingTime when;
        if (steps is { } k)
        {
            if (lr is not { } eta || !(eta > 0)) throw new BadInputException("--steps needs a positive --lr.");
            if (k < 0) throw new BadInputException($"--steps {k} must be ≥ 0.");
            when = TrainingTime.Discrete(k, eta);
        }
        else if (timeText.Trim().Equals("inf", StringComparison.OrdinalIgnoreCase)) when = TrainingTime.Infinite;
        else if (double.TryParse(timeText, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t >= 0 && double.IsFinite(t))
            when = TrainingTime.Flow(t);
        else throw new BadInputException($"--time '{timeText}' must be a number ≥ 0 or 'inf'.");

        var spec = NetworkSpec.Parse(archText, ParameterizationNames.Parse(param), sw2, sb2);
        var xTrain = DataFiles.ReadMatrix(xTrainPath);
        var y = DataFiles.ReadMatrix(yTrainPath);
        var xTest = DataFiles.ReadMatrix(xTestPath);
        if (y.Rows != xTrain.Rows)
            throw new BadInputException($"{yTrainPath} has {y.Rows} rows but {xTrainPath} has {xTrain.Rows} inputs.");
        if (xTest.Cols != xTrain.Cols)
            throw new BadInputException($"{xTestPath} has {xTest.Cols} features but {xTrainPath} has {xTrain.Cols}.");
        var clock = Stopwatch.StartNew();
        Matrix mean;
        double[]? var = null;
        double? lml = null;
        // Train×train (symmetric), test×train, and the test points' own variances from their traces: no test×test block.
        // nngp: readout-only training evolves with K.
        var predictor = new KernelPredictor(spec, xTrain, xTest, ntk: kind == "ntk", ridge);
        double kernelSeconds = predictor.KernelSeconds;
        double eigenSeconds = predictor.EigenSeconds;
        int m = xTest.Rows;
        double maxLr = predictor.MaxStableLearningRate;
        double t1 = clock.Elapsed.TotalSeconds;
        if (kind == "nngp" && when.IsInfinite)
        {
            var post = predictor.Posterior(y, ridge);
            (mean, var, lml) = (post.Mean, post.Variance, post.LogMarginalLikelihood);
        }
        else
        {
            mean = predictor.Mean(y, when);
            if (varPath is not null) var = predictor.Variance(when);   // O(N³): only when asked
        }
        double predictSeconds = clock.Elapsed.TotalSeconds - t1;
        using (var sink = new MatrixSink(outPath, m, mean.Cols))
        {
            sink.WriteRows(mean.Data, m);
            sink.Commit();
        }
        if (varPath is not null)
            using (var sink = new MatrixSink(varPath, m, 1))
            {
                sink.WriteRows(var!, m);
                sink.Commit();
            }
        double seconds = clock.Elapsed.TotalSeconds;
        if (json)
            Console.WriteLine(JsonSerializer.Serialize<object>(new Dictionary<string, object?>
            {
                ["kernel"] = kind, ["arch"] = spec.ToText(), ["n_train"] = xTrain.Rows, ["n_test"] = m, ["outputs"] = mean.Cols,
                ["time"] = when.IsInfinite ? "inf" : when.Time.ToString("R", CultureInfo.InvariantCulture), ["steps"] = when.Steps,
                ["learning_rate"] = when.Steps is null ? null : when.LearningRate, ["ridge"] = ridge,
                ["max_stable_learning_rate"] = maxLr, ["log_marginal_likelihood"] = lml,
                ["out"] = Path.GetFullPath(outPath), ["var"] = varPath is null ? null : Path.GetFullPath(varPath),
                ["seconds"] = Math.Round(seconds, 3),
                ["timings"] = new Dictionary<string, double>
                {
                    ["kernel_s"] = Math.Round(kernelSeconds, 3), ["eigendecomposition_s"] = Math.Round(eigenSeconds, 3),
                    ["prediction_s"] = Math.Round(predictSeconds, 3),
                },
            }, Lmech.Json));
        else
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Predicted {m}×{mean.Cols} test outputs " +
                $"({kind}, t = {(when.IsInfinite ? "∞" : when.Time.ToString("G4", CultureInfo.InvariantCulture))}) written to " +
                $"{outPath}; GD on this kernel is stable for η < {maxLr:G4}."));
        return Lmech.Ok;
    }
}
