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
/// <c>conservation</c> (Kunin et al. 2021; Du et al. 2018; Saxe et al. 2014): the rescaling symmetry of a neuron between
/// two layers joined by a positively homogeneous activation (ReLU, linear) makes Q_j = ‖w_in,j‖² + b_j² − ‖w_out,·j‖² a
/// conserved quantity of gradient flow. Gradient descent breaks it at exactly η² per step (<see
/// cref="Conservation.StepChangeOverEta2"/>), so over a fixed training time the drift vanishes ∝ η; SGD adds a drift
/// driven by the minibatch noise, η²·(N − B)/(B(N − 1)) times the per-example gradients' variance balance.
/// </summary>
public sealed class ConservationExperiment : IExperiment
{
    private const string Reference = "Kunin et al. 2021; Du et al. 2018";

    public string Id => "conservation";
    public string Title => "Conservation laws of gradient flow and how GD and SGD break them";
    public string Summary => "the per-neuron balance ‖w_in‖² − ‖w_out‖² is conserved by the flow, drifts by exactly " +
        "η²·(…) per GD step, and SGD adds a noise-driven drift";
    public string Source => Reference;

    public IReadOnlyList<SettingInfo> Settings { get; } =
    [
        new("acts", "activations (positively homogeneous)", "relu,linear", "relu,linear,leaky_relu"),
        new("width", "hidden width (two hidden layers, NTK parameterisation, σ_w² = 2, σ_b² = 0.1)", "64", "128"),
        new("n_train", "training points (16-d sphere, tanh teacher)", "64", "128"),
        new("lr", "GD learning rate η", "0.05", "0.05"),
        new("steps", "steps at η (the fixed training time is η·steps)", "400", "800"),
        new("lr_factors", "η multipliers for the flow limit (steps scaled to keep η·steps)", "1,0.5,0.25,0.125",
            "1,0.5,0.25,0.125,0.0625"),
        new("batch", "SGD batch size B", "8", "8"),
        new("sgd_lr", "SGD learning rate (at GD's training time η·steps: more, smaller steps, where the noise part dominates)",
            "0.0125", "0.00625"),
    ];

    private static readonly ClaimDeclaration GdDrift = new("gd-drift-{act}",
        "{act}: over {steps} GD steps every neuron's Q_j drifts by exactly Σ_t η²(‖g_in,j‖² + g_b,j² − ‖g_out,·j‖²) " +
        "(the first order cancels by the rescaling symmetry): projection of the measured drifts on the predicted ones = 1",
        Reference, ClaimRule.TwoSided, "10⁻⁶: float64 rounding of the updates (the identity is exact)")
    {
        Competitor = "exact conservation, as under gradient flow: no drift (projection 0)",
    };

    private static readonly ClaimDeclaration FlowLimit = new("flow-limit-{act}",
        "{act}: at a fixed training time η·T the RMS drift of Q vanishes ∝ η (log–log slope 1 over η = {etas}): gradient " +
        "flow conserves Q", Reference, ClaimRule.TwoSided,
        "the change of the local slope across the η range (the next order in η, measured) + 0.01")
    {
        Competitor = "slope 0: the drift does not depend on the step size (a property of the loss, not of discretisation)",
    };

    private static readonly ClaimDeclaration SgdNoise = new("sgd-noise-{act}",
        "{act}: SGD with batch {batch} drifts by Σ_t η²[balance of the pool's mean gradient + (|R| − B)/(B(|R| − 1))·(per-" +
        "example gradient variance balance over R)], R the examples the epoch has not used yet: projection of the measured " +
        "drifts on this prediction = 1", Reference, ClaimRule.TwoSided,
        "4·SE, the SE from the realised per-step deviations (martingale differences given the pool: uncorrelated across steps)")
    {
        Competitor = "the minibatch noise adds nothing: the drift is the full-gradient part alone",
    };

    public IReadOnlyList<ClaimDeclaration> Claims { get; } = [GdDrift, FlowLimit, SgdNoise];

    public void Validate(Settings settings) => Setup.From(settings);

    /// <summary>
    /// Per activation: the GD run (steps full-batch steps), the flow-limit runs (steps/f steps at each factor f) and the SGD
    /// run (steps·lr/sgd_lr steps, each also computing the per-example gradients of the epoch's remaining pool, ≈ one
    /// full-batch gradient), for the 16 → n → n → 1 MLP; in memory the per-example gradients (N × weights) and the SGD run's
    /// per-step increments (two vectors over the 2n neurons per step).
    /// </summary>
    public ResourceEstimate? Estimate(Settings settings)
    {
        var p = Setup.From(settings);
        double w = WorkEstimate.MlpWeights(16, p.Width, 2);
        double gdSteps = p.Steps + p.Factors.Sum(f => Math.Round(p.Steps / f));
        double sgdSteps = Math.Round(p.Steps * p.Lr / p.SgdLr);
        double flops = p.Acts.Length * (WorkEstimate.Training(w, gdSteps, p.NTrain, 0)
            + WorkEstimate.Training(w, sgdSteps, p.NTrain + p.Batch, 0));
        double bytes = WorkEstimate.Matrix(p.NTrain, w) + sgdSteps * 2 * WorkEstimate.Matrix(2, p.Width)
            + WorkEstimate.TrainedNetwork(w) + WorkEstimate.Activations(2.0 * p.Width + 1, p.NTrain) + WorkEstimate.Matrix(p.NTrain, 17);
        return new ResourceEstimate(flops, bytes);
    }

    /// <summary>Random stream of the data; network of activation a uses stream (NetStream, a).</summary>
    private const ulong DataStream = 0;

    private const ulong NetStream = 1;

    /// <summary>Rounding allowance of the exact identity (relative).</summary>
    private const double Rounding = 1e-6;

    private sealed record Setup(string[] Acts, int Width, int NTrain, double Lr, int Steps, double[] Factors, int Batch, double SgdLr)
    {
        public static Setup From(Settings s)
        {
            var acts = s.GetList("acts");
            foreach (var a in acts)
                if (!Activation.Parse(a).IsScaleInvariant)
                    throw new BadInputException($"Setting acts: '{a}' is not positively homogeneous; Q is conserved only for those " +
                        "(relu, linear, leaky_relu, abs).");
            double[] factors = s.GetDoubleList("lr_factors", 0, 1);
            if (factors.Length < 3) throw new BadInputException("Setting lr_factors needs ≥ 3 values for a slope and its curvature.");
            int nTrain = s.GetInt("n_train", 2);
            int batch = s.GetInt("batch", 1);
            if (batch >= nTrain) throw new BadInputException($"Setting batch={batch} must be below n_train={nTrain} (else SGD is GD).");
            return new Setup(acts, s.GetInt("width", 1), nTrain, s.GetDouble("lr", 1e-12), s.GetInt("steps", 1),
                [.. factors.OrderDescending()], batch, s.GetDouble("sgd_lr", 1e-12));
        }

        public NetworkSpec Spec(string act) =>
            NetworkSpec.Parse($"dense({Width})-{act}-dense({Width})-{act}-dense(1)", Parameterization.Ntk, 2, 0.1);
    }

    public ExperimentOutput Run(RunContext ctx)
    {
        var p = Setup.From(ctx.Settings);
        var root = new Rng(ctx.Seed);
        var data = Teacher.Label(Synthetic.Sphere(p.NTrain, 16, root.Split(DataStream, 0)), "dense(32)-tanh-dense(1)",
            root.Split(DataStream, 1), sw2: 2);
        var output = new ExperimentOutput();
        var rows = new List<(string Act, double Eta, double Drift)>();
        for (int a = 0; a < p.Acts.Length; a++)
        {
            string act = p.Acts[a];
            var rng = root.Split(NetStream, (ulong)a);
            ctx.Progress?.Report(new ProgressInfo(act, a, p.Acts.Length));
            JudgeGd(output, p, act, data, rng);
            var drifts = p.Factors.Select(f => RmsDrift(p, act, data, rng, p.Lr * f, (int)Math.Round(p.Steps / f))).ToArray();
            rows.AddRange(p.Factors.Select((f, i) => (act, p.Lr * f, drifts[i])));
            JudgeFlow(output, p, act, drifts);
            JudgeSgd(output, p, act, data, rng);
        }
        output.Tables["flow_limit"] = SeriesTable.FromRows(rows, ("activation", r => r.Act), ("eta", r => r.Eta),
            ("rms_drift", r => r.Drift));
        output.Plots.Add(new PlotSpec($"Drift of the conserved quantity at fixed training time η·T = {p.Lr * p.Steps:G3}", "η",
            "RMS over neurons of Q_j(T) − Q_j(0)",
            [.. p.Acts.SelectMany(act =>
            {
                var mine = rows.Where(r => r.Act == act).ToList();
                double[] eta = [.. mine.Select(r => r.Eta)];
                return new[]
                {
                    new SeriesSpec($"{act} measured", eta, [.. mine.Select(r => r.Drift)], SeriesKind.Points),
                    new SeriesSpec($"{act} ∝ η", eta, [.. eta.Select(e => mine[0].Drift * e / mine[0].Eta)], SeriesKind.Line,
                        Dashed: true),
                };
            })], LogX: true, LogY: true, Caption: "Gradient descent breaks the flow's conservation law at order η over a fixed time."));
        return output;
    }

    private static Network<double> Fresh(Setup p, string act, Dataset data, Rng rng)
    {
        var net = new Network<double>(p.Spec(act), data.InputDim);
        net.Initialize(rng.Split(0));
        return net;
    }

    /// <summary>Q_j(T) − Q_j(0) for every neuron, and the accumulated prediction from <paramref name="perStep"/>.</summary>
    private static (double[] Measured, double[] Predicted) Train(Network<double> net, Dataset data, TrainingOptions options,
        Action<TrainingState<double>, double[]> perStep)
    {
        var before = Conservation.Balances(net);
        var predicted = new double[before.Length];
        var result = new Trainer<double>(net, data, options).Run(state => perStep(state, predicted));
        if (result.Status != TrainingStatus.Completed)
            throw new InvalidOperationException($"Training stopped: {result.StatusText} {result.Note}; lower lr.");
        var after = Conservation.Balances(net);
        return ([.. after.Zip(before, (x, y) => x - y)], predicted);
    }

    private static Action<TrainingState<double>, double[]> ExactGdStep(Network<double> net) => (state, acc) =>
    {
        var change = Conservation.StepChangeOverEta2(net, state.Gradient);
        double eta2 = state.LearningRate * state.LearningRate;
        for (int i = 0; i < acc.Length; i++) acc[i] += eta2 * change[i];
    };

    private static double Projection(double[] measured, double[] predicted) =>
        measured.Zip(predicted, (m, q) => m * q).Sum() / predicted.Sum(q => q * q);

    private static void JudgeGd(ExperimentOutput output, Setup p, string act, Dataset data, Rng rng)
    {
        var net = Fresh(p, act, data, rng);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, p.Lr), p.Steps);
        var (measured, predicted) = Train(net, data, options, ExactGdStep(net));
        double beta = Projection(measured, predicted);
        double worst = measured.Zip(predicted, (m, q) => Math.Abs(m - q)).Max();
        double rms = Math.Sqrt(predicted.Average(q => q * q));
        output.Claims.Add(GdDrift.With(("act", act), ("steps", p.Steps)).Compare(1, beta, 0, Rounding,
            string.Create(CultureInfo.InvariantCulture, $"{measured.Length} neurons, η = {p.Lr}; RMS predicted drift {rms:G3}, " +
                $"largest |measured − predicted| {worst:G2}; tolerance {Rounding} (rounding)."), competitor: 0));
    }

    private static double RmsDrift(Setup p, string act, Dataset data, Rng rng, double eta, int steps)
    {
        var net = Fresh(p, act, data, rng);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta), steps);
        var (measured, _) = Train(net, data, options, (_, _) => { });
        return Math.Sqrt(measured.Average(m => m * m));
    }

    private static void JudgeFlow(ExperimentOutput output, Setup p, string act, double[] drifts)
    {
        double[] logEta = [.. p.Factors.Select(f => Math.Log(p.Lr * f))];
        double[] logD = [.. drifts.Select(d => Math.Log(d))];
        double[] ones = [.. logEta.Select(_ => 1.0)];
        double slope = Statistics.FitLine(logEta, logD, ones).Slope;
        double Local(int i) => (logD[i] - logD[i + 1]) / (logEta[i] - logEta[i + 1]);
        double curvature = Math.Abs(Local(0) - Local(drifts.Length - 2));
        string etas = string.Join(", ", p.Factors.Select(f => (p.Lr * f).ToString("G3", CultureInfo.InvariantCulture)));
        output.Claims.Add(FlowLimit.With(("act", act), ("etas", etas)).Compare(1, slope, 0, curvature + 0.01,
            string.Create(CultureInfo.InvariantCulture, $"fit over η = {etas} at η·T = {p.Lr * p.Steps:G3}; local slopes " +
                $"{Local(0):F4} (largest η) … {Local(drifts.Length - 2):F4} (smallest); tolerance {curvature:G2} + 0.01."),
            competitor: 0));
    }

    private static void JudgeSgd(ExperimentOutput output, Setup p, string act, Dataset data, Rng rng)
    {
        var net = Fresh(p, act, data, rng);
        var expectation = new MinibatchConservation(net, data, p.Batch);
        var realised = new List<double[]>();
        var expected = new List<double[]>();
        var fullPart = new double[Conservation.Balances(net).Length];
        // The same training time η·T as GD's.
        int steps = (int)Math.Round(p.Steps * p.Lr / p.SgdLr);
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Sgd, p.SgdLr), steps, p.Batch,
            Seed: rng.Split(1).NextUInt64());
        // The trainer reshuffles each epoch and takes ⌊N/B⌋ disjoint batches from it: the batch at step t is a uniform draw
        // from the examples the epoch has not used yet, so the expectation is conditioned on that pool.
        int batchesPerEpoch = data.Count / p.Batch;
        var used = new HashSet<int>();
        var (measured, predicted) = Train(net, data, options, (state, acc) =>
        {
            double eta2 = state.LearningRate * state.LearningRate;
            if (state.Step % batchesPerEpoch == 0) used.Clear();
            var (full, noise) = expectation.Expected([.. Enumerable.Range(0, data.Count).Where(i => !used.Contains(i))]);
            used.UnionWith(state.BatchRows);
            var step = Conservation.StepChangeOverEta2(net, state.Gradient);
            var x = new double[full.Length];
            var e = new double[full.Length];
            for (int j = 0; j < full.Length; j++)
            {
                x[j] = eta2 * step[j];
                e[j] = eta2 * (full[j] + noise[j]);
                acc[j] += e[j];
                fullPart[j] += eta2 * full[j];
            }
            realised.Add(x);
            expected.Add(e);
        });
        double norm = predicted.Sum(q => q * q);
        double beta = Projection(measured, predicted);
        // SE of the projection: the per-step deviations of the realised increments from their expectation are martingale
        // differences, uncorrelated across steps.
        double se = Math.Sqrt(realised.Zip(expected, (x, e) =>
            Math.Pow(x.Zip(e, (xi, ei) => xi - ei).Zip(predicted, (d, q) => d * q).Sum() / norm, 2)).Sum());
        double competitor = Projection(fullPart, predicted);
        output.Claims.Add(SgdNoise.With(("act", act), ("batch", p.Batch)).Compare(1, beta, se, 4 * se,
            string.Create(CultureInfo.InvariantCulture, $"{steps} SGD steps at η = {p.SgdLr}, N = {data.Count}, B = {p.Batch}; " +
                $"the noise term is {1 - competitor:P1} of the predicted drift (projection); tolerance 4·SE."),
            competitor: competitor));
    }
}
