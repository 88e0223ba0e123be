using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;
using Spectre.Console;
using Table = Spectre.Console.Table;

namespace LearningMechanics.Cli;

/// <summary><c>lmech finite-width --act NAME --depth L --width n</c>: the single-input 1/n expansion layer by layer.</summary>
internal static class FiniteWidthCommand
{
    public static Command Build()
    {
        var act = new Option<string>("--act") { Description = "activation", Required = true };
        var depth = new Option<int>("--depth") { Description = "hidden layers L", Required = true };
        var width = new Option<int>("--width") { Description = "width n", Required = true };
        var sw2 = new Option<double?>("--sw2") { Description = "σ_w² (default: critical at σ_b² = 0 where it exists)" };
        var sb2 = new Option<double>("--sb2") { Description = "σ_b²", DefaultValueFactory = _ => 0.0 };
        var norm = new Option<double>("--input-norm") { Description = "x·x/d of the input", DefaultValueFactory = _ => 1.0 };
        var cosine = new Option<double?>("--pair-cosine")
        {
            Description = "also the four-point vertex of a pair of inputs with this cosine (Roberts & Yaida 2022, eq. 4.90)",
        };
        var gamma = new Option<double>("--gamma")
        {
            Description = "residual identity scale γ (z′ = γz + Wσ(z) + b in the hidden layers; Roberts & Yaida 2022, App. B); " +
                "0 = plain MLP",
            DefaultValueFactory = _ => 0.0,
        };
        var xTrain = new Option<string?>("--x-train")
        {
            Description = "Bayesian inference (Roberts & Yaida 2022, §6.4): training inputs (.csv/.npy), a small data set; " +
                "prints the posterior mean and sd at width n",
        };
        var yTrain = new Option<string?>("--y-train")
            { Description = "training targets, one row per training input, one column per output" };
        var xTest = new Option<string?>("--x-test") { Description = "test inputs for the posterior mean" };
        var noise = new Option<double>("--noise")
            { Description = "observation noise variance σ_ε² (0: exact observations)", DefaultValueFactory = _ => 0.0 };
        var output = new Option<string?>("--out") { Description = "write the width-n posterior means (test × outputs, .csv/.npy)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var force = new Option<bool>("--force")
            { Description = "compute the posterior even when its estimated work is beyond 10¹⁴ operations (hours)" };
        var cmd = new Command("finite-width",
            "Kernel K, four-point vertex V, NLO metric, output kurtosis and NTK fluctuations layer by layer (Roberts & Yaida 2022, " +
            "§5.4, §9.1); with --x-train/--y-train/--x-test the Bayesian posterior mean and variance at width n to order 1/n (§6.4).")
            { act, depth, width, sw2, sb2, norm, gamma, cosine, xTrain, yTrain, xTest, noise, output, json, force };
        cmd.SetAction(p => Run(p.GetValue(act)!, p.GetValue(depth), p.GetValue(width), p.GetValue(sw2), p.GetValue(sb2), p.GetValue(norm),
            p.GetValue(gamma), p.GetValue(cosine),
            new BayesArgs(p.GetValue(xTrain), p.GetValue(yTrain), p.GetValue(xTest), p.GetValue(noise), p.GetValue(output),
                p.GetValue(force)),
            p.GetValue(json)));
        return cmd;
    }

    private sealed record BayesArgs(string? XTrain, string? YTrain, string? XTest, double Noise, string? Out, bool Force)
    {
        public bool Requested => XTrain is not null || YTrain is not null || XTest is not null || Out is not null;
    }

    /// <summary>The deepest network the command computes (10⁸ layers ran for minutes before).</summary>
    private const int MaxDepth = 100_000;

    private static int Run(string actName, int depth, int width, double? sw2Opt, double sb2, double inputNorm, double gamma, double? cosine,
        BayesArgs bayes, bool json)
    {
        var act = Activation.Parse(actName);
        if (depth < 1 || depth > MaxDepth)
            throw new BadInputException($"--depth {depth} must be an integer in 1…{MaxDepth} (the recursions run layer by layer, and " +
                "the 1/n expansion needs L/n ≪ 1 anyway).");
        if (width < 1) throw new BadInputException($"--width {width} must be a positive integer.");
        if (!(sb2 >= 0) || !double.IsFinite(sb2)) throw new BadInputException($"--sb2 {sb2} must be a number ≥ 0.");
        if (!(inputNorm > 0) || !double.IsFinite(inputNorm))
            throw new BadInputException($"--input-norm {inputNorm} must be positive.");
        if (!(gamma * gamma < 1) || !double.IsFinite(gamma))
            throw new BadInputException(
                $"--gamma {gamma} must satisfy γ² < 1 (criticality needs C_W ∝ 1 − γ², Roberts & Yaida 2022, eqs. B.20–B.21).");
        double sw2 = sw2Opt ?? OptimalAspectRatio.ResidualCriticalWeightVariance(act, gamma);
        if (!(sw2 > 0) || !double.IsFinite(sw2)) throw new BadInputException($"--sw2 {sw2} must be a positive number.");
        // The posterior's inputs and its estimated work are checked before any recursion runs.
        var posteriorWork = bayes.Requested ? Posterior(act, sw2, sb2, depth, gamma, bayes) : null;
        var layers = FourPointVertex.SingleInput(new(act, sw2, sb2), inputNorm, depth + 1, gamma);
        // The book's B.26 for comparison: it misses the residual memory term (docs/notes/residual-vertex.md).
        var book = gamma != 0 ? FourPointVertex.SingleInput(new(act, sw2, sb2), inputNorm, depth + 1, gamma, book: true) : null;
        // NTK fluctuations (Roberts & Yaida 2022, eqs. 9.13–9.16) where φ′ exists; NNGP-only activations (sign, step) have none,
        // and Roberts & Yaida give them for plain MLPs only.
        var ntk = act.IsDifferentiable && gamma == 0 ? NtkFluctuations.SingleInput(new(act, sw2, sb2), inputNorm, depth + 1) : null;
        if (cosine is { } c && (!(Math.Abs(c) <= 1) || gamma != 0))
            throw new BadInputException(gamma != 0 ? "--pair-cosine is for plain MLPs (γ = 0)." : $"--pair-cosine {c} must be in [−1, " +
                $"1].");
        var pair = cosine is { } cos ? PairVertex.Compute(new(act, sw2, sb2), inputNorm, cos * inputNorm, inputNorm, depth + 1)[^1] : null;
        // JSON has no NaN: G¹ of a pair at the PSD edge (|cosine| → 1 but not identical) is not resolved and written null.
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        Dictionary<string, double?>? pairJson = pair is null ? null : new()
        {
            ["cosine"] = cosine!.Value, ["K_aa"] = pair.K[0], ["K_ab"] = pair.K[1], ["V_aa_aa"] = pair.V[0, 0], ["V_aa_ab"] = pair.V[0, 1],
            ["V_aa_bb"] = pair.V[0, 2], ["V_ab_ab"] = pair.V[1, 1], ["G1_aa"] = Finite(pair.G1[0]), ["G1_ab"] = Finite(pair.G1[1]),
        };
        // Optimal aspect ratio (Roberts & Yaida 2022, eq. A.73) where ν is defined: scale-invariant or K* = 0 class at criticality.
        double? nu = null;
        double? rStar = null;
        double? rPairs = null;
        bool critical = sw2Opt is null && sb2 == 0;
        if (critical)
            try
            {
                // With γ ≠ 0: the corrected recursion's slope where it is derived (scale-invariant φ), else the book's.
                nu = gamma != 0 && act.IsScaleInvariant ? OptimalAspectRatio.ResidualNu(act, gamma) : OptimalAspectRatio.Nu(act, gamma);
                rStar = OptimalAspectRatio.RStar(nu.Value, width);
                rPairs = OptimalAspectRatio.RStar(nu.Value, 1, 1);
            }
            catch (BadInputException) { }
        var posterior = posteriorWork?.Invoke();
        if (posterior is not null && bayes.Out is not null)
        {
            var means = CorrectedMeans(posterior, width);
            using var sink = new MatrixSink(bayes.Out, means.Rows, means.Cols);
            sink.WriteRows(means.Data, means.Rows);
            sink.Commit();
        }
        var output = layers[^1];
        double epsilon = output.NormalisedVertex / width;
        string validity = epsilon < 0.1 ? "ok: V/(nK²) < 0.1, the 1/n expansion is reliable"
            : epsilon < 0.5 ? $"warning: V/(nK²) = {epsilon:G3}; higher orders in 1/n are no longer small"
            : $"warning: V/(nK²) = {epsilon:G3} ≥ 0.5; the expansion is not valid here (the network is far from Gaussian)";
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize<object>(new Dictionary<string, object?>
            {
                ["activation"] = act.Name, ["sw2"] = sw2, ["sb2"] = sb2, ["gamma"] = gamma, ["depth"] = depth, ["width"] = width,
                ["layers"] = layers.Select((l, i) =>
                {
                    // JSON has no NaN: quantities that are not defined (G¹ with residual connections) are null.
                    static double? J(double v) => double.IsFinite(v) ? v : null;
                    var row = new Dictionary<string, double?>
                    {
                        ["layer"] = l.Layer, ["K"] = l.K, ["V"] = l.V, ["G1"] = J(l.G1), ["V_over_nK2"] = l.NormalisedVertex / width,
                        ["excess_kurtosis"] = l.ExcessKurtosis(width),
                    };
                    if (book is not null)
                    {
                        row["V_book_B26"] = book[i].V;
                        row["excess_kurtosis_book_B26"] = book[i].ExcessKurtosis(width);
                    }
                    if (ntk is not null)
                    {
                        var q = ntk[i];
                        row["ntk_frozen"] = q.Theta;
                        row["ntk_H1"] = q.H1;
                        row["ntk_mean"] = q.Mean(width);
                        row["ntk_A"] = q.A;
                        row["ntk_B"] = q.B;
                        row["ntk_D"] = q.D;
                        row["ntk_F"] = q.F;
                        row["ntk_variance"] = q.Variance(width);
                        row["ntk_relative_variance"] = q.RelativeVariance(width);
                        row["ntk_output_covariance"] = q.CrossCovariance(width);
                    }
                    return row;
                }),
                ["output_pair_vertex"] = pairJson,
                ["bayesian_posterior"] = posterior is null ? null : new Dictionary<string, object?>
                {
                    ["gp_mean"] = Rows(posterior.GpMean), ["gp_variance"] = posterior.GpVariance,
                    ["coefficient_metric"] = Rows(posterior.Metric), ["coefficient_vertex"] = Rows(posterior.Vertex),
                    ["mean_at_width"] = Rows(CorrectedMeans(posterior, width)),
                    ["variance_coefficient"] = Rows(posterior.VarianceCorrection),
                    ["variance_at_width"] = Rows(Map(posterior, (r, c) => posterior.VarianceAt(r, c, width))), ["noise"] = bayes.Noise,
                    ["out"] = bayes.Out is null ? null : Path.GetFullPath(bayes.Out),
                    ["formula"] = "E[z|y] = GP mean + (metric + vertex)/n (Roberts & Yaida 2022, eqs. 6.81-6.88); " +
                        "Var[z|y] = GP variance + variance_coefficient/n (second-order Edgeworth term)",
                },
                ["expansion_parameter"] = epsilon, ["validity"] = validity, ["nu"] = nu,
                ["optimal_aspect_ratio_neuron_pairs"] = rPairs, ["optimal_aspect_ratio_layer_halves"] = rStar,
                ["nu_book_B29"] = nu is not null && gamma != 0 && act.IsScaleInvariant ? OptimalAspectRatio.Nu(act, gamma) : null,
                ["optimal_aspect_ratio_layer_halves_book"] = nu is not null && gamma != 0 && act.IsScaleInvariant
                    ? OptimalAspectRatio.RStar(OptimalAspectRatio.Nu(act, gamma), width) : null,
                ["ntk_note"] = ntk is null
                    ? (gamma != 0 ? "NTK fluctuations are given for plain MLPs (γ = 0) only" : $"'{act.Name}' has no derivative: no NTK")
                    : "E[Θ̂] = Θ + H¹/n (H¹ derived, see NtkFluctuations), Var(Θ̂) = (A + 2B)/n, Cov(Θ̂, z²) = (D + 2F)/n " +
                        "(Roberts & Yaida 2022, eqs. 9.13–9.16)",
            }, Lmech.Json));
            return Lmech.Ok;
        }
        var t = new Table
        {
            Title = new TableTitle(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{act.Name}, σ_w² = {sw2:G6}, σ_b² = {sb2:G4}, depth {depth}, width {width}" +
                $"{(gamma != 0 ? $", residual γ = {gamma:G4}" : "")}"))),
        };
        t.AddColumns("layer ℓ", "K", "V", "G¹", "V/(nK²)", "excess kurtosis 3V/(nK²)", "NTK Θ", "E[[Θ̂]] = Θ + " +
            "H¹/n", "Var(Θ̂)/Θ²",
            "Cov(Θ̂, z²)");
        foreach (var (l, i) in layers.Select((l, i) => (l, i)))
            t.AddRow(l.Layer.ToString(CultureInfo.InvariantCulture), F(l.K), F(l.V), F(l.G1), F(l.NormalisedVertex / width),
                F(l.ExcessKurtosis(width)),
                ntk is null ? "—" : F(ntk[i].Theta), ntk is null ? "—" : F(ntk[i].Mean(width)),
                ntk is null ? "—" : F(ntk[i].RelativeVariance(width)), ntk is null ? "—" : F(ntk[i].CrossCovariance(width)));
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(Markup.Escape($"Layer {depth + 1} is the output. {validity}. " + (ntk is not null
            ? "NTK: E[Θ̂] = Θ + H¹/n, Var(Θ̂) = (A + 2B)/n and Cov(Θ̂, z²) = (D + 2F)/n (Roberts & Yaida 2022, eqs. 9.13–9.16 " +
                "and the derived H¹, NTK parameterisation)."
            : gamma != 0
                ? $"Residual MLP: every step is z′ = γz + Wσ(z) + b with γ = {gamma:G4} (Roberts & Yaida 2022, eqs. B.12, B.15); " +
                    "V is B.26 plus the memory term it misses (docs/notes/residual-vertex.md). The book's B.26 alone gives " +
                    $"V = {book![^1].V:G5} and excess kurtosis {book[^1].ExcessKurtosis(width):G4} at the output layer. " +
                    "NTK fluctuations are given for plain MLPs only."
                : "No NTK: the activation has no derivative.")));
        if (pair is not null)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Pair of inputs at cosine {cosine:G4} (eq. 4.90), output layer: K_ab = {pair.K[1]:G5}; " +
                $"V_(aa)(aa) = {pair.V[0, 0]:G5}, V_(aa)(bb) = {pair.V[0, 2]:G5}, V_(ab)(ab) = {pair.V[1, 1]:G5}, " +
                $"V_(aa)(ab) = {pair.V[0, 1]:G5} (Cov(Ĝ_p, Ĝ_q) = V/n); " +
                $"NLO metric G¹_aa = {pair.G1[0]:G5}, G¹_ab = {pair.G1[1]:G5} (eq. 4.115).")));
        if (posterior is not null)
        {
            var b = new Table
            {
                Title = new TableTitle(Markup.Escape($"Bayesian posterior at width {width} (Roberts & Yaida 2022, §6.4, eqs. " +
                    $"6.81–6.88; variance: second-order Edgeworth term), " +
                    $"σ_ε² = {bayes.Noise.ToString("G4", CultureInfo.InvariantCulture)}")),
            };
            b.AddColumns("test", "output", "GP mean", "GP sd", "1/n coefficient: metric", "vertex", $"mean at n = {width}",
                "variance coefficient", $"sd at n = {width}");
            var corrected = CorrectedMeans(posterior, width);
            for (int r = 0; r < posterior.GpMean.Rows; r++)
                for (int o = 0; o < posterior.GpMean.Cols; o++)
                    b.AddRow(r.ToString(CultureInfo.InvariantCulture), o.ToString(CultureInfo.InvariantCulture), F(posterior.GpMean[r, o]),
                        F(Math.Sqrt(Math.Max(posterior.GpVariance[r], 0))),
                        F(posterior.Metric[r, o]), F(posterior.Vertex[r, o]), F(corrected[r, o]), F(posterior.VarianceCorrection[r, o]),
                        F(Math.Sqrt(Math.Max(posterior.VarianceAt(r, o, width), 0))));
            AnsiConsole.Write(b);
            if (bayes.Out is not null)
                AnsiConsole.MarkupLine(Markup.Escape($"Posterior means at width {width} written to {bayes.Out}."));
        }
        if (rStar is { } rs)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Optimal aspect ratio (Roberts & Yaida 2022, App. {(gamma != 0 ? "B, eqs. B.29/B.35/B.36" : "A")}, ν = {nu:G4}): " +
                $"r* = {rPairs:G4} for pairs of neurons (eq. A.72, m₁ = m₂ = 1), {rs:G4} for the two halves of a width-{width} layer " +
                $"(eq. A.73); this network has L/n = {(double)depth / width:G3}.") +
                (gamma == 0 ? "" : act.IsScaleInvariant
                    ? FormattableString.Invariant($" ν is the corrected recursion's large-depth slope; the book's B.29 gives ") +
                        FormattableString.Invariant($"{OptimalAspectRatio.Nu(act, gamma):G4} (docs/notes/residual-vertex.md).")
                    : " With γ ≠ 0 this ν is the book's B.35: for the K* = 0 class the memory term changes V/K² by O(1/ℓ), " +
                      "not its slope (docs/notes/residual-vertex.md §5b).")));
        return Lmech.Ok;
    }

    /// <summary>The 1/n posterior-mean expansion for the --x-train/--y-train/--x-test files.</summary>
    /// <summary>Reads and checks the posterior's inputs and refuses work beyond the limit; returns the computation.</summary>
    private static Func<PosteriorExpansion> Posterior(Activation act, double sw2, double sb2, int depth, double gamma, BayesArgs bayes)
    {
        if (bayes.XTrain is null || bayes.YTrain is null || bayes.XTest is null)
            throw new BadInputException("Bayesian inference needs all of --x-train, --y-train and --x-test.");
        if (gamma != 0) throw new BadInputException("The finite-width posterior is for plain MLPs (--gamma 0).");
        if (!(bayes.Noise >= 0) || !double.IsFinite(bayes.Noise))
            throw new BadInputException($"--noise {bayes.Noise} must be a number ≥ 0.");
        var xa = DataFiles.ReadMatrix(bayes.XTrain);
        var y = DataFiles.ReadMatrix(bayes.YTrain);
        var xb = DataFiles.ReadMatrix(bayes.XTest);
        if (y.Rows != xa.Rows)
            throw new BadInputException($"{bayes.YTrain} has {y.Rows} rows but {bayes.XTrain} has {xa.Rows} inputs.");
        if (xb.Cols != xa.Cols)
            throw new BadInputException($"{bayes.XTest} has {xb.Cols} features but {bayes.XTrain} has {xa.Cols}.");
        if (xa.Rows > MaxTrainingInputs)
            throw new BadInputException($"{bayes.XTrain} has {xa.Rows} training inputs; the finite-width posterior integrates over up to " +
                $"four of the {xa.Rows + 1} inputs per vertex entry ((N+1)⁴ entries per test input), so at most {MaxTrainingInputs} " +
                "are allowed (Roberts & Yaida 2022, §6.4.2, call larger sets impractical).");
        double flops = xb.Rows * Math.Pow(xa.Rows + 1, 4) * depth * (act.HasClosedForm ? ClosedFormEntryLayer : QuadratureEntryLayer);
        if (!bayes.Force && Runner.Refusal("finite-width", new ResourceEstimate(flops, 0)) is { } why) throw new BadInputException(why);
        return () => FiniteWidthPosterior.Mean(new(act, sw2, sb2), depth, xa, y, xb, bayes.Noise);
    }

    private const int MaxTrainingInputs = 12;

    /// <summary>Operations per vertex entry and layer of the posterior recursion, measured (≈ 10 GFLOP/s on 2 cores): about
    /// 40 µs with closed-form Gaussian expectations (ReLU), 250 µs with quadrature (tanh).</summary>
    private const double ClosedFormEntryLayer = 4e5;

    private const double QuadratureEntryLayer = 2.5e6;

    private static Matrix CorrectedMeans(PosteriorExpansion p, int width) => Map(p, (r, c) => p.MeanAt(r, c, width));

    /// <summary>A test × output matrix of <paramref name="f"/>(test, output).</summary>
    private static Matrix Map(PosteriorExpansion p, Func<int, int, double> f)
    {
        var m = new Matrix(p.GpMean.Rows, p.GpMean.Cols);
        for (int r = 0; r < m.Rows; r++) for (int c = 0; c < m.Cols; c++) m[r, c] = f(r, c);
        return m;
    }

    private static double[][] Rows(Matrix m) =>
        [.. Enumerable.Range(0, m.Rows).Select(r => Enumerable.Range(0, m.Cols).Select(c => m[r, c]).ToArray())];

    private static string F(double v) => double.IsFinite(v) ? v.ToString("G5", CultureInfo.InvariantCulture) : "—";
}
