using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Observables;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech train</c> (README.md, "Command line"): trains one network on the user's data (<c>--x/--y</c>, CSV or NPY) or a built-in
/// data set (<c>--data fashion-mnist|mixture|teacher</c>), records the loss and the requested observables, and stores
/// result.json, CSV, report and a results.db row under <c>--out</c>.
/// </summary>
internal static class TrainCommand
{
    public static Command Build()
    {
        var arch = new Option<string>("--arch")
            { Description = "architecture, e.g. dense(256)-relu-dense(256)-relu-dense(10)", Required = true };
        var param = new Option<string>("--param")
            { Description = "parameterisation: ntk, sp, mup or mf", DefaultValueFactory = _ => "ntk" };
        var sw2 = new Option<double>("--sw2") { Description = "σ_w²", DefaultValueFactory = _ => 1.0 };
        var sb2 = new Option<double>("--sb2") { Description = "σ_b²", DefaultValueFactory = _ => 0.0 };
        var opt = new Option<string>("--opt") { Description = "optimiser: gd, sgd, momentum or adam", DefaultValueFactory = _ => "gd" };
        var lr = new Option<double>("--lr") { Description = "learning rate η", DefaultValueFactory = _ => 0.1 };
        var steps = new Option<int>("--steps") { Description = "number of optimiser steps", DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch") { Description = "mini-batch size (0 = full batch)", DefaultValueFactory = _ => 0 };
        var loss = new Option<string>("--loss") { Description = "mse or ce (softmax cross-entropy)", DefaultValueFactory = _ => "mse" };
        var x = new Option<string?>("--x") { Description = "training inputs (.csv/.npy), one row per example" };
        var y = new Option<string?>("--y") { Description = "training targets (.csv/.npy); class labels with --labels" };
        var xTest = new Option<string?>("--x-test") { Description = "test inputs" };
        var yTest = new Option<string?>("--y-test") { Description = "test targets" };
        var labels = new Option<bool>("--labels")
            { Description = "targets are integer class labels (one-hot encoded; implied by --loss ce with one column)" };
        var data = new Option<string?>("--data") { Description = "built-in data instead of --x/--y: fashion-mnist, mixture, teacher" };
        var nTrain = new Option<int>("--n-train") { Description = "training examples for --data", DefaultValueFactory = _ => 1000 };
        var dtype = new Option<string>("--dtype") { Description = "float64 or float32", DefaultValueFactory = _ => "float64" };
        var init = new Option<string?>("--init") { Description = "start from these weights (.safetensors)" };
        var save = new Option<string?>("--save") { Description = "save the trained weights (.safetensors)" };
        var saveEvery = new Option<int>("--save-every")
        {
            Description = "also write the weights every k steps (and at the end) to OUT/ID/checkpoints/step-N.safetensors, for " +
                "lmech spectra FOLDER",
            DefaultValueFactory = _ => 0,
        };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "lmech-results" };
        var seed = new Option<ulong>("--seed")
            { Description = "random seed (initialisation, batches, data)", DefaultValueFactory = _ => 42 };
        var schedule = new Option<string>("--schedule")
            { Description = "constant, cosine, step(EVERY,GAMMA), optionally warmup(STEPS)+…", DefaultValueFactory = _ => "constant" };
        var momentum = new Option<double>("--momentum")
            { Description = "momentum coefficient (--opt momentum)", DefaultValueFactory = _ => 0.9 };
        var wd = new Option<double>("--weight-decay")
            { Description = "L2 weight decay λ (adds λθ to the gradient)", DefaultValueFactory = _ => 0.0 };
        var zero = new Option<bool>("--zero-readout") { Description = "initialise the readout to zero (μP option)" };
        var eps = new Option<double>("--adam-eps") { Description = "Adam's ε", DefaultValueFactory = _ => 1e-8 };
        var epsPerLayer = new Option<bool>("--adam-eps-per-layer")
        {
            Description = "scale Adam's ε per layer with the layer's gradient scale under --param (Everett et al. 2024); " +
                "--adam-eps is then the value for a width-1 layer",
        };
        var hiddenFactor = new Option<double>("--hidden-lr-factor")
        {
            Description = "multiply the learning rate of the hidden weights (in a residual MLP: the blocks') by this, e.g. " +
                "depth-μP's L^-1/2 for Adam (Yang et al. 2023) or CompleteP's L^(α−1) (Dey et al. 2025)",
            DefaultValueFactory = _ => 1.0,
        };
        var baseWidth = new Option<double?>("--base-width")
            { Description = "μP's base width n₀: μP equals SP at width n₀ (Tensor Programs V, Table 3 in width multipliers)" };
        var gamma0 = new Option<double>("--gamma0")
        {
            Description = "richness γ₀ of a mup/mf network: output ÷ γ₀, learning rates × γ₀² (γ₀ → 0: lazy)",
            DefaultValueFactory = _ => 1.0,
        };
        var observe = new Option<string?>("--observe")
            { Description = $"observables to record, comma-separated: {string.Join(", ", TrainingObservables.Names)}" };
        var every = new Option<int>("--observe-every")
            { Description = "record observables every k steps (default: 20 times per run)", DefaultValueFactory = _ => 0 };
        var target = new Option<double>("--target-loss")
            { Description = "stop once the batch loss is at or below this", DefaultValueFactory = _ => 0.0 };
        var id = new Option<string>("--id") { Description = "name of the run folder under --out", DefaultValueFactory = _ => "train" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var force = new Option<bool>("--force")
            { Description = "train even when the estimated work or memory is beyond the limits (10¹⁴ operations; 80 % of memory)" };
        var cmd = new Command("train", "Train a finite network and record its loss and observables.")
            {
                arch, param, sw2, sb2, opt, lr, steps, batch, loss, x, y, xTest, yTest, labels, data, nTrain, dtype, init, save, outDir,
                seed, schedule, momentum, wd, zero, eps, epsPerLayer, hiddenFactor, baseWidth, gamma0, observe, every, target, id, json,
                saveEvery, force,
            };
        cmd.SetAction(p =>
        {
            var lossFn = Loss.Parse(p.GetValue(loss)!);
            ulong s = p.GetValue(seed);
            var spec = NetworkSpec.Parse(p.GetValue(arch)!, ParameterizationNames.Parse(p.GetValue(param)!), p.GetValue(sw2),
                p.GetValue(sb2)) with { BaseWidth = p.GetValue(baseWidth), Gamma0 = p.GetValue(gamma0) };
            // Class labels are checked against the readout's width (one output per class).
            int? classes = spec.Layers[^1] is Dense readout ? readout.Width : null;
            var (train, test) = LoadData(p.GetValue(data), p.GetValue(x), p.GetValue(y), p.GetValue(xTest), p.GetValue(yTest),
                p.GetValue(labels) || lossFn is CrossEntropyLoss, p.GetValue(nTrain), s, classes);
            string dt = p.GetValue(dtype)!.ToLowerInvariant();
            if (dt is not ("float64" or "float32"))
                throw new BadInputException($"--dtype '{dt}' is not allowed. Allowed: float64, float32.");
            string runId = p.GetValue(id)!;
            if (runId.Length == 0 || runId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || runId is "." or "..")
                throw new BadInputException($"--id '{runId}' must be a plain folder name.");
            if (runId.Length > MaxIdLength)
                throw new BadInputException($"--id is {runId.Length} characters long; at most {MaxIdLength} are allowed.");
            var kind = OptimizerSettings.ParseKind(p.GetValue(opt)!);
            var job = new TrainingJob(spec, train, lossFn,
                new OptimizerSettings(kind, p.GetValue(lr), p.GetValue(momentum), Epsilon: p.GetValue(eps), WeightDecay: p.GetValue(wd),
                    PerLayerEpsilon: p.GetValue(epsPerLayer), HiddenFactor: p.GetValue(hiddenFactor)).Validated(),
                p.GetValue(steps), p.GetValue(batch), LearningRateSchedule.Parse(p.GetValue(schedule)!), dt == "float32", s,
                p.GetValue(zero), p.GetValue(init), p.GetValue(save), test, TrainingObservables.Parse(p.GetValue(observe)),
                p.GetValue(every), p.GetValue(outDir)!, runId, p.GetValue(target), p.GetValue(saveEvery), p.GetValue(force));
            if (job.SaveEvery < 0) throw new BadInputException($"--save-every {job.SaveEvery} must be ≥ 0 (0: no checkpoints).");
            if (job.Steps < 0) throw new BadInputException($"--steps {job.Steps} must be ≥ 0.");
            if (job.ObserveEvery < 0) throw new BadInputException($"--observe-every {job.ObserveEvery} must be ≥ 0.");
            var run = TrainingRun.Run(job, p.GetValue(json) ? null : new ConsoleProgress(runId));
            var f = run.Config;
            if (p.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["status"] = f["status"], ["steps_taken"] = int.Parse(f["steps_taken"], CultureInfo.InvariantCulture),
                    ["diverged_at_step"] = f.TryGetValue("diverged_at_step", out var d) ? int.Parse(d, CultureInfo.InvariantCulture) : null,
                    ["final_train_loss"] =
                        f.TryGetValue("final_train_loss", out var fl) ? double.Parse(fl, CultureInfo.InvariantCulture) : null,
                    ["parameters"] = int.Parse(f["parameters"], CultureInfo.InvariantCulture),
                    ["steps_per_s"] = Math.Round(run.Output.Timings["steps_per_s"], 1),
                    ["result"] = Path.GetFullPath(Path.Combine(run.Directory, "result.json")),
                }, Lmech.Json));
            else
            {
                Console.WriteLine(f["status"] == "diverged"
                    ? $"Training diverged at step {f["diverged_at_step"]} ({f["note"]})."
                    : $"Training {f["status"]} after {f["steps_taken"]} steps: " +
                        $"final training loss {f.GetValueOrDefault("final_train_loss", "n/a")} " +
                        $"({run.Output.Timings["steps_per_s"]:F0} steps/s, {f["parameters"]} parameters).");
                Console.WriteLine($"Report: {Path.GetFullPath(Path.Combine(run.Directory, "report.html"))}");
            }
            return Lmech.Ok;
        });
        return cmd;
    }

    private const int MaxTrain = 10_000_000;

    /// <summary>Longest --id: the run folder's name, kept well below the file system's 255 bytes with its files inside.</summary>
    private const int MaxIdLength = 100;

    private static (Dataset Train, Dataset? Test) LoadData(string? data, string? x, string? y, string? xTest, string? yTest, bool labels,
        int n, ulong seed, int? classes)
    {
        if (data is not null && (x is not null || y is not null)) throw new BadInputException("Give either --data or --x/--y, not both.");
        // The synthetic sets draw 2·n points of 16 inputs each; 10⁷ of them are 2.6 GB.
        if (n is < 1 or > MaxTrain) throw new BadInputException($"--n-train {n} must be an integer in 1…{MaxTrain:N0}.");
        var rng = new Rng(seed).Split(99);
        if (data is not null)
        {
            switch (data.Trim().ToLowerInvariant())
            {
                case "fashion-mnist":
                    {
                        var train = FashionMnist.Load("train", n, rng.Split(1));
                        var test = FashionMnist.Load("test", Math.Min(n, 10000), rng.Split(2));
                        return (train, test);
                    }
                case "mixture":
                    {
                        var all = Synthetic.GaussianMixture(2 * n, 16, 4, 1.0, rng);
                        return (all.Take(n), all.Subset(Enumerable.Range(n, n).ToArray()));
                    }
                case "teacher":
                    {
                        var all = Teacher.Label(Synthetic.Sphere(2 * n, 16, rng.Split(1)), "dense(64)-tanh-dense(1)", rng.Split(2),
                            noise: 0.1);
                        return (all.Take(n), all.Subset(Enumerable.Range(n, n).ToArray()));
                    }
                default:
                    throw new BadInputException($"Unknown data set '{data}'. Allowed: fashion-mnist, mixture (16-d, 4 classes), " +
                        "teacher (16-d sphere, tanh teacher).");
            }
        }
        if (x is null || y is null)
            throw new BadInputException("Training data is required: --x FILE --y FILE, or --data fashion-mnist|mixture|teacher.");
        // With one target column and cross-entropy (or --labels), the column holds class indices.
        var trainSet = DataFiles.Load(x, y, labels, classes, multiColumnTargets: true);
        Dataset? testSet = null;
        if (xTest is not null || yTest is not null)
        {
            if (xTest is null || yTest is null) throw new BadInputException("Test data needs both --x-test and --y-test.");
            testSet = DataFiles.Load(xTest, yTest, labels, classes, multiColumnTargets: true);
            if (testSet.InputDim != trainSet.InputDim)
                throw new BadInputException($"{xTest} has {testSet.InputDim} features but {x} has {trainSet.InputDim}.");
        }
        return (trainSet, testSet);
    }
}
