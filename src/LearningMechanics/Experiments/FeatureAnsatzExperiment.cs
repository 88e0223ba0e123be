using System.Globalization;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Experiments;

/// <summary>
/// <c>feature-ansatz</c> (Radhakrishnan et al. 2024): after training, the first layer's neural feature matrix W₁ᵀW₁ is
/// proportional to the network's average gradient outer product (AGOP) with respect to its input, or to a power of it
/// (the square root in later work). The task has a low-dimensional target, y = x₁x₂ + tanh(x₃) on Gaussian inputs in d
/// dimensions, so both matrices should concentrate on span(e₁, e₂, e₃). The correlation is measured as in
/// <see cref="FeatureAnsatz"/> (Pearson over the entries) at initialisation and at the end, for a rich network (μP,
/// trained by Adam with weight decay, which the correlation grows with: without it, at the quick size, 0.85 instead of
/// 0.96) and for a lazy one (the same architecture in NTK parameterisation at a tenth of the learning rate).
/// </summary>
public sealed class FeatureAnsatzExperiment : IExperiment
{
    private const string Reference = "Radhakrishnan et al. 2024";

    public string Id => "feature-ansatz";
    public string Title => "The neural feature ansatz: W₁ᵀW₁ against the average gradient outer product";
    public string Summary => "training on a low-dimensional target makes the first layer's W₁ᵀW₁ correlate with the network's " +
        "AGOP (and its square root), far beyond its value at initialisation and in the lazy regime";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("d", "input dimension (target y = x₁x₂ + tanh(x₃))", "20", "40"),
        new("n_train", "training points", "2048", "8192"),
        new("width", "hidden width (two ReLU layers)", "128", "512"),
        new("steps", "full-batch Adam steps", "600", "3000"),
        new("lr", "Adam learning rate (μP: the base rate of a width-1 layer)", "0.01", "0.01"),
        new("weight_decay", "Adam's L2 weight decay λ (the rich network)", "1e-3", "1e-3"),
        new("seeds", "independently initialised networks per regime", "3", "5"),
    ];

    private static readonly ClaimDeclaration Agop = new("nfa-agop",
        "after training (μP, Adam) the Pearson correlation of W₁ᵀW₁ with the AGOP ≥ {level} (mean over {seeds} networks)",
        Reference, ClaimRule.AtLeast, "4·SE over networks")
    {
        Competitor = "no feature learning: the correlation the same networks have at initialisation",
    };

    private static readonly ClaimDeclaration Sqrt = new("nfa-sqrt-agop",
        "after training the Pearson correlation of W₁ᵀW₁ with AGOP^½ ≥ {level}", Reference, ClaimRule.AtLeast,
        "4·SE over networks")
    {
        Competitor = "no feature learning: the correlation with AGOP^½ at initialisation",
    };

    private static readonly ClaimDeclaration Lazy = new("nfa-lazy-stays",
        "in the lazy regime (NTK parameterisation, learning rate {lazy_lr}, no weight decay) the correlation with the AGOP " +
        "moves by at most {level} from its value at initialisation",
        Reference, ClaimRule.AtMost, "4·SE over networks")
    {
        Competitor = "the rich network's change of the correlation",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [Agop, Sqrt, Lazy];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Per network (two per seed: rich and lazy): full-batch Adam steps of the d → n → n → 1 MLP on the N points, and twice
    /// (start, end) the AGOP (a backward pass per output over the data, N·d² for the outer products, the d × d eigen-
    /// decomposition and square root) and the loss; in memory the data, the network with its full-batch activations and the
    /// d × d matrices.
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double d = p.D;
        double w = WorkEstimate.MlpWeights(d, p.Width, 2);
        double measure = WorkEstimate.Training(w, 1, p.NTrain, p.NTrain) + 2 * p.NTrain * d * d + WorkEstimate.Eigen(d) + 2 * d * d * d;
        double flops = 2.0 * p.Seeds * (WorkEstimate.Training(w, p.Steps, p.NTrain, p.NTrain) + 2 * measure);
        double bytes = 3 * WorkEstimate.Matrix(p.NTrain, d + 1) + WorkEstimate.TrainedNetwork(w)
            + WorkEstimate.Activations(2.0 * p.Width + d + 1, p.NTrain) + 5 * WorkEstimate.Matrix(d, d);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Stated levels: the trained correlations at least 0.95; the lazy change at most 0.1.</summary>
    private const double TrainedLevel = 0.95;

    private const double LazyLevel = 0.1;

    /// <summary>Random stream of the data; rich network s uses (NetStream, s), lazy network s (LazyStream, s).</summary>
    private const ulong DataStream = 0;

    private const ulong NetStream = 1;
    private const ulong LazyStream = 2;

    private sealed record Setup(int D, int NTrain, int Width, int Steps, double Lr, double WeightDecay, int Seeds)
    {
        public static Setup From(Settings s) =>
            new(s.GetInt("d", 3), s.GetInt("n_train", 8), s.GetInt("width", 2), s.GetInt("steps", 1), s.GetDouble("lr", 1e-12),
                s.GetDouble("weight_decay", 0), s.GetInt("seeds", 2));

        public NetworkSpec Spec(Parameterization param) =>
            NetworkSpec.Parse($"dense({Width})-relu-dense({Width})-relu-dense(1)", param, 2, 0);

        /// <summary>The lazy network's learning rate: small enough that the NTK barely moves.</summary>
        public double LazyLr => Lr / 10;
    }

    /// <summary>One network: correlations with the AGOP and its square root at initialisation and at the end, and the
    /// training loss at both.</summary>
    private sealed record Measured(double AgopStart, double AgopEnd, double SqrtStart, double SqrtEnd, double LossStart, double LossEnd);

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var data = Task(p, root.Split(DataStream));
        var rich = new List<Measured>();
        var lazy = new List<Measured>();
        for (int s = 0; s < p.Seeds; s++)
        {
            ctx.Cancellation.ThrowIfCancellationRequested();
            ctx.Progress?.Report(new ProgressInfo("networks", 2 * s, 2 * p.Seeds));
            rich.Add(Train(p, data, Parameterization.MuP, p.Lr, p.WeightDecay, root.Split(NetStream, (ulong)s)));
            ctx.Progress?.Report(new ProgressInfo("networks", 2 * s + 1, 2 * p.Seeds));
            lazy.Add(Train(p, data, Parameterization.Ntk, p.LazyLr, 0, root.Split(LazyStream, (ulong)s)));
        }
        ctx.Progress?.Report(new ProgressInfo("networks", 2 * p.Seeds, 2 * p.Seeds));
        var output = new ExperimentOutput();
        Judge(output, rich, lazy, p);
        output.Tables["feature_ansatz"] = SeriesTable.FromRows(
            [.. rich.Select((m, s) => ("rich", s, m)).Concat(lazy.Select((m, s) => ("lazy", s, m)))],
            ("regime", r => r.Item1), ("network", r => (double)r.Item2), ("agop_start", r => r.Item3.AgopStart),
            ("agop_end", r => r.Item3.AgopEnd), ("sqrt_agop_start", r => r.Item3.SqrtStart), ("sqrt_agop_end", r => r.Item3.SqrtEnd),
            ("loss_start", r => r.Item3.LossStart), ("loss_end", r => r.Item3.LossEnd));
        double[] x = [0, 1];
        output.Plots.Add(new PlotSpec("Correlation of W₁ᵀW₁ with the AGOP, at initialisation (0) and after training (1)",
            "training (0 = initialisation, 1 = end)", "Pearson correlation",
            [.. rich.Select((m, s) => new SeriesSpec($"rich {s}", x, [m.AgopStart, m.AgopEnd], SeriesKind.Line)),
             .. lazy.Select((m, s) => new SeriesSpec($"lazy {s}", x, [m.AgopStart, m.AgopEnd], SeriesKind.Line, Dashed: true))],
            Caption: $"{p.Seeds} networks per regime; d = {p.D}, {p.NTrain} points, width {p.Width}, {p.Steps} Adam steps."));
        return output;
    }

    /// <summary>x ~ N(0, I_d), y = x₁x₂ + tanh(x₃): a target of three of the d directions.</summary>
    private static Dataset Task(Setup p, Rng rng)
    {
        var x = Synthetic.GaussianInputs(p.NTrain, p.D, rng);
        var y = new Matrix(p.NTrain, 1);
        for (int i = 0; i < p.NTrain; i++) y[i, 0] = x[i, 0] * x[i, 1] + Math.Tanh(x[i, 2]);
        return new Dataset(x, y, Name: $"y = x₁x₂ + tanh(x₃), d = {p.D}");
    }

    private static Measured Train(Setup p, Dataset data, Parameterization param, double lr, double weightDecay, Rng rng)
    {
        var net = new Network<double>(p.Spec(param), data.InputDim);
        net.Initialize(rng.Split(0));
        var (agop0, sqrt0) = Correlations(net, data.X);
        double loss0 = Loss(net, data);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Adam, lr, WeightDecay: weightDecay), p.Steps);
        var result = new Trainer<double>(net, data, options).Run();
        if (result.Status != TrainingStatus.Completed)
            throw new BadInputException($"Training diverged ({result.StatusText} {result.Note}); lower lr.");
        var (agop1, sqrt1) = Correlations(net, data.X);
        return new Measured(agop0, agop1, sqrt0, sqrt1, loss0, Loss(net, data));
    }

    private static double Loss(Network<double> net, Dataset data) =>
        new MseLoss().Value<double>(Trainer<double>.Predict(net, data.X).Data, data.Y.Data, data.Count);

    /// <summary>Pearson correlation of the entries of W₁ᵀW₁ with those of the AGOP and of AGOP^½.</summary>
    private static (double Agop, double Sqrt) Correlations(Network<double> net, Matrix x)
    {
        var r = FeatureAnsatz.Measure(net, x);
        var root = SquareRoot(r.Agop);
        return (r.Pearson, FeatureAnsatz.Pearson(r.FeatureMatrix.Data, root.Data));
    }

    /// <summary>The PSD square root through the eigendecomposition (negative rounding eigenvalues set to 0).</summary>
    private static Matrix SquareRoot(Matrix a)
    {
        var (values, vectors) = Lapack.SymmetricEigen(a);
        int n = a.Rows;
        var root = new Matrix(n, n);
        for (int k = 0; k < n; k++)
        {
            double s = Math.Sqrt(Math.Max(0, values[k]));
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) root[i, j] += s * vectors[i, k] * vectors[j, k];
        }
        return root;
    }

    private static void Judge(ExperimentOutput output, List<Measured> rich, List<Measured> lazy, Setup p)
    {
        var (end, endSe) = MeanSe(rich.Select(m => m.AgopEnd));
        var (start, _) = MeanSe(rich.Select(m => m.AgopStart));
        output.Claims.Add(Agop.With(("level", TrainedLevel), ("seeds", p.Seeds)).Compare(TrainedLevel, end, endSe, 4 * endSe,
            string.Create(CultureInfo.InvariantCulture, $"Pearson(W₁ᵀW₁, AGOP) {start:F3} at initialisation → {end:F3} ± " +
                $"{endSe:F3} after {p.Steps} steps; tolerance 4·SE."), competitor: start));
        var (sqrtEnd, sqrtSe) = MeanSe(rich.Select(m => m.SqrtEnd));
        var (sqrtStart, _) = MeanSe(rich.Select(m => m.SqrtStart));
        output.Claims.Add(Sqrt.With(("level", TrainedLevel)).Compare(TrainedLevel, sqrtEnd, sqrtSe, 4 * sqrtSe,
            string.Create(CultureInfo.InvariantCulture, $"Pearson(W₁ᵀW₁, AGOP^½) {sqrtStart:F3} → {sqrtEnd:F3} ± {sqrtSe:F3}; " +
                $"tolerance 4·SE."), competitor: sqrtStart));
        var (lazyMove, lazySe) = MeanSe(lazy.Select(m => Math.Abs(m.AgopEnd - m.AgopStart)));
        var (richMove, _) = MeanSe(rich.Select(m => Math.Abs(m.AgopEnd - m.AgopStart)));
        double lazyFall = Statistics.Mean([.. lazy.Select(m => m.LossEnd / m.LossStart)]);
        double richFall = Statistics.Mean([.. rich.Select(m => m.LossEnd / m.LossStart)]);
        output.Claims.Add(Lazy.With(("lazy_lr", p.LazyLr), ("level", LazyLevel)).Compare(LazyLevel, lazyMove, lazySe, 4 * lazySe,
            string.Create(CultureInfo.InvariantCulture, $"|Δ Pearson| lazy {lazyMove:F3} ± {lazySe:F3}, rich {richMove:F3}; training " +
                $"loss end/start lazy {lazyFall:G3}, rich {richFall:G3}; tolerance 4·SE."), competitor: richMove));
    }

    private static (double Mean, double Se) MeanSe(IEnumerable<double> values)
    {
        double[] v = [.. values];
        return (Statistics.Mean(v), v.Length > 1 ? Statistics.StandardError(v) : double.NaN);
    }
}
