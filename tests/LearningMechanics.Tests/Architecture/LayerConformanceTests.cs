using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;
using Xunit.Abstractions;

namespace LearningMechanics.Tests.Architecture;

/// <summary>
/// Conformance of the two semantics of one architecture description (DESIGN.md "one description, several semantics"):
/// for every layer type and every class of activation, in NTK and standard parameterisation, Monte Carlo ensembles of
/// finite networks built from a <see cref="NetworkSpec"/> converge as the width grows to the NNGP K (Neal 1996;
/// Lee et al. 2018) and the NTK Θ (Jacot et al. 2018) that <see cref="NeuralKernels"/> computes from the same spec.
/// <para>
/// Estimators, per network: for K the Rao–Blackwellised f(x)f(x′), i.e. its expectation over the readout layer given
/// the last hidden representation h, m_W²σ_W²·h·h′ + m_b²σ_b² (exactly E[f f′ | h], since the readout is drawn
/// independently of h); for Θ the empirical NTK. Both self-average, with variance O(1/n) per network, so the number of
/// networks M is chosen with M·n fixed and every width gets about the same standard error. Their means differ from the
/// infinite-width kernels by O(1/n) (Roberts &amp; Yaida 2022, ch. 4 and 8), so each entry's deviation, in units of
/// √(K(x, x)K(x′, x′)) (of Θ for Θ), is fitted as a + b/n over the widths: a must vanish within 4 standard errors, and at
/// the largest width the deviation must lie within 4 SE of the fitted bias b/n. Where that bias is known to vanish (deep
/// linear networks) every width is held to 4 SE instead.
/// </para>
/// <para>
/// In standard parameterisation Θ carries the fan-ins (it grows with the width), so each width is compared with the
/// kernels of the spec at that width. Its O(1) terms (the biases' +1) are then O(1/n) relative to Θ, the order of the
/// finite-width bias, so only the deep linear case, whose mean is exact, can check them.
/// </para>
/// </summary>
public class LayerConformanceTests(ITestOutputHelper output)
{
    private const int InputDim = 8;
    private const ulong Seed = 20260;
    /// <summary>Networks × width at each width: 1600 networks at n = 32, 100 at n = 512.</summary>
    private const int NetworksTimesWidth = 51_200;
    private static readonly int[] Widths = [32, 128, 512];

    /// <summary>
    /// One conformance case: the layer type (or activation) it is about and an architecture with "{n}" for the width.
    /// Each case has one n × n weight matrix, so the cost per network is O(n²). <paramref name="ExactMean"/>: the ensemble
    /// means equal the kernels at every width (no O(1/n) bias), so each width is held to 4 SE without a fit.
    /// </summary>
    public sealed record Case(string Name, Type Subject, string Template, double Sw2, double Sb2, bool ExactMean = false)
    {
        public NetworkSpec Spec(int width, Parameterization param) =>
            NetworkSpec.Parse(Template.Replace("{n}", width.ToString(System.Globalization.CultureInfo.InvariantCulture)), param, Sw2, Sb2);
    }

    public static readonly IReadOnlyList<Case> Cases =
    [
        // Deep linear, with per-layer σ² overrides. E[ff′] and E[Θ̂] equal K and Θ at every width: h is linear in each
        // weight matrix, and Θ̂'s backward factor ∂f/∂z (independent of the input) is independent of the layer's input.
        // So this case also checks SP's O(1) terms of Θ (the biases' +1), which are O(1/n) relative to Θ ∝ n and
        // elsewhere indistinguishable from the finite-width bias.
        new("dense", typeof(Dense), "dense({n},sw2=2)-dense({n},sb2=0.3)-dense(1)", 1.0, 0.1, ExactMean: true),
        // Activation classes: closed form and scale-invariant; closed form and smooth; Gauss–Hermite quadrature;
        // kinked, not scale-invariant, kink-aware quadrature.
        new("relu", typeof(Relu), "dense({n})-relu-dense({n})-relu-dense(1)", 2.0, 0.1),
        new("erf", typeof(Erf), "dense({n})-erf-dense({n})-erf-dense(1)", 1.5, 0.1),
        new("tanh", typeof(Tanh), "dense({n})-tanh-dense({n})-tanh-dense(1)", 1.5, 0.1),
        new("elu", typeof(Elu), "dense({n})-elu-dense({n})-elu-dense(1)", 1.5, 0.1),
        // Residual with branch scale s ≠ 1 and identity scale γ ≠ 1: K′ = γ²K + s²K_block.
        new("residual", typeof(Residual), "dense({n})-res(relu-dense({n}),0.6,0.8)-dense(1)", 2.0, 0.1),
        // LayerNorm after an activation, so the feature mean E[φ(u)] is subtracted.
        new("layernorm", typeof(LayerNorm), "dense({n})-relu-layernorm-dense({n})-relu-dense(1)", 2.0, 0.1),
    ];

    /// <summary>The parameterisations with infinite-width kernels; every case runs in each.</summary>
    public static readonly IReadOnlyList<Parameterization> KernelParameterizations = [Parameterization.Ntk, Parameterization.Standard];

    public static IEnumerable<object[]> CaseData() =>
        Cases.SelectMany(c => KernelParameterizations.Select(p => new object[] { c.Name, p.ToText() }));

    /// <summary>
    /// The case that stands for each activation class (a concrete <see cref="Activation"/> type): its own case, or the
    /// case of the class whose kernel code route it shares (<see cref="KernelRoute"/>); empty for activations without φ′,
    /// which have no finite network.
    /// </summary>
    private static readonly IReadOnlyDictionary<Type, string[]> CoveredBy = new Dictionary<Type, string[]>
    {
        [typeof(Relu)] = ["relu"],
        [typeof(LeakyRelu)] = ["relu"],
        [typeof(Abs)] = ["relu"],
        [typeof(Linear)] = ["relu"],
        [typeof(Erf)] = ["erf"],
        [typeof(Gelu)] = ["erf"],
        [typeof(Sin)] = ["erf"],
        [typeof(Cos)] = ["erf"],
        [typeof(Polynomial)] = ["erf"],
        [typeof(Monomial)] = ["erf"],
        [typeof(Tanh)] = ["tanh"],
        [typeof(Sigmoid)] = ["tanh"],
        [typeof(Softplus)] = ["tanh"],
        [typeof(Silu)] = ["tanh"],
        [typeof(Elu)] = ["elu"],
        [typeof(CustomActivation)] = ["tanh", "elu"],
        [typeof(Sign)] = [],
        [typeof(Step)] = [],
    };

    [Theory]
    [MemberData(nameof(CaseData))]
    public void FiniteEnsemblesConvergeToTheKernelsOfTheSameSpec(string name, string param)
    {
        var c = Cases.Single(k => k.Name == name);
        var p = ParameterizationNames.Parse(param);
        var x = Inputs();
        var pairs = Pairs(x.Rows);
        int caseIndex = Cases.ToList().IndexOf(c) * KernelParameterizations.Count + KernelParameterizations.ToList().IndexOf(p);
        // dev[kind][pair][width], se likewise; kind 0 = NNGP, 1 = NTK.
        var dev = new double[2, pairs.Length, Widths.Length];
        var se = new double[2, pairs.Length, Widths.Length];
        for (int w = 0; w < Widths.Length; w++)
        {
            var spec = c.Spec(Widths[w], p);
            var (k, theta) = NeuralKernels.Compute(spec, x);
            var samples = Sample(spec, x, pairs, NetworksTimesWidth / Widths[w], new Rng(Seed).Split((ulong)caseIndex), (ulong)w);
            var kernels = new[] { k, theta! };
            for (int kind = 0; kind < 2; kind++)
                for (int q = 0; q < pairs.Length; q++)
                {
                    var (i, j) = pairs[q];
                    double scale = Math.Sqrt(kernels[kind][i, i] * kernels[kind][j, j]);
                    dev[kind, q, w] = (Statistics.Mean(samples[kind][q]) - kernels[kind][i, j]) / scale;
                    se[kind, q, w] = Statistics.StandardError(samples[kind][q]) / scale;
                }
        }
        var failures = new List<string>();
        for (int kind = 0; kind < 2; kind++)
            for (int q = 0; q < pairs.Length; q++)
            {
                double[] inverseWidth = [.. Widths.Select(n => 1.0 / n)];
                double[] d = [.. Enumerable.Range(0, Widths.Length).Select(w => dev[kind, q, w])];
                double[] s = [.. Enumerable.Range(0, Widths.Length).Select(w => se[kind, q, w])];
                var fit = Statistics.FitLine(inverseWidth, d, s);
                double bias = Math.Abs(fit.Slope) / Widths[^1];
                string widths = string.Join(", ", d.Select((v, w) => FormattableString.Invariant($"{v:+0.0000;-0.0000}±{s[w]:0.0000}")));
                string line = $"{(kind == 0 ? "K" : "Θ")}{pairs[q]}: dev {widths}; " + FormattableString.Invariant(
                    $"a = {fit.Intercept:+0.0000;-0.0000}±{fit.InterceptStdErr:0.0000}, b = {fit.Slope:+0.00;-0.00}");
                output.WriteLine(line);
                if (c.ExactMean)
                {
                    for (int w = 0; w < Widths.Length; w++)
                        if (Math.Abs(d[w]) > 4 * s[w]) failures.Add($"{line}: width {Widths[w]} beyond 4 SE of an exact mean");
                    continue;
                }
                if (Math.Abs(fit.Intercept) > 4 * fit.InterceptStdErr) failures.Add($"{line}: intercept beyond 4 SE");
                if (Math.Abs(d[^1]) > 4 * s[^1] + bias) failures.Add($"{line}: largest width beyond 4 SE + |b|/n");
            }
        Assert.True(failures.Count == 0, $"{c.Template} ({param}) disagrees with its kernels:\n{string.Join("\n", failures)}");
    }

    /// <summary>
    /// Per network and input pair, the Rao–Blackwellised NNGP estimator E[f(x)f(x′) | h] ([0]) and the empirical NTK
    /// ([1]), for <paramref name="nets"/> networks of <paramref name="spec"/> drawn from split streams.
    /// </summary>
    private static double[][][] Sample(NetworkSpec spec, Matrix x, (int I, int J)[] pairs, int nets, Rng root, ulong stream)
    {
        var samples = new double[2][][];
        for (int kind = 0; kind < 2; kind++)
        {
            samples[kind] = new double[pairs.Length][];
            for (int q = 0; q < pairs.Length; q++) samples[kind][q] = new double[nets];
        }
        long done = 0;
        NtkEnsemble.Run(spec, x, nets, root, stream, "conformance", ref done, nets, (i, net, theta) =>
        {
            var ws = net.CreateWorkspace(x.Rows);
            net.Forward(x.Data, ws);
            int readout = net.DenseCount - 1;
            var h = ws.Activations(net.DenseInputIndex(readout));
            int width = h.Length / x.Rows;
            var w = net.Tensors[2 * readout].Rule;
            var b = net.Tensors[2 * readout + 1].Rule;
            double weightVariance = Math.Pow(w.Multiplier * w.InitStd, 2);
            double biasVariance = Math.Pow(b.Multiplier * b.InitStd, 2);
            for (int q = 0; q < pairs.Length; q++)
            {
                var (a, c) = pairs[q];
                double dot = 0;
                for (int u = 0; u < width; u++) dot += h[a * width + u] * h[c * width + u];
                samples[0][q][i] = weightVariance * dot + biasVariance;
                samples[1][q][i] = theta[a, c];
            }
        });
        return samples;
    }

    /// <summary>Four inputs in dimension 8: two generic ones, one nearly parallel to the first (cos ≈ 0.99), one shorter.</summary>
    private static Matrix Inputs()
    {
        var x = TestData.RandomMatrix(4, InputDim, 31);
        var noise = TestData.RandomMatrix(1, InputDim, 32);
        for (int c = 0; c < InputDim; c++)
        {
            x[2, c] = x[0, c] + 0.15 * noise[0, c];
            x[3, c] *= 0.5;
        }
        return x;
    }

    private static (int I, int J)[] Pairs(int n) =>
        [.. Enumerable.Range(0, n).SelectMany(i => Enumerable.Range(i, n - i).Select(j => (i, j)))];

    [Fact]
    public void EveryLayerTypeHasAConformanceCaseInEveryKernelParameterisation()
    {
        var layerTypes = ConcreteSubclasses(typeof(Layer));
        var subjects = Cases.Select(c => c.Subject.IsSubclassOf(typeof(Activation)) ? typeof(ActivationLayer) : c.Subject).ToHashSet();
        var missing = layerTypes.Where(t => !subjects.Contains(t)).Select(t => t.Name).ToList();
        Assert.True(missing.Count == 0, $"Layer types without a conformance case: {string.Join(", ", missing)}.");
        foreach (var c in Cases)
        {
            var spec = c.Spec(Widths[0], Parameterization.Ntk);
            var used = LayersOf(spec.Layers).ToList();
            Assert.True(used.Any(l => l.GetType() == c.Subject || l is ActivationLayer a && a.Activation.GetType() == c.Subject),
                $"Case '{c.Name}' does not contain its subject {c.Subject.Name}.");
        }
        // Parameterisations with kernels, found by asking the kernel engine: each must be one every case runs in.
        var x = Inputs();
        var withKernels = Enum.GetValues<Parameterization>().Where(p => HasKernels(p, x)).ToHashSet();
        Assert.True(withKernels.SetEquals(KernelParameterizations),
            $"Parameterisations with kernels: {string.Join(", ", withKernels)}; "
            + $"conformance cases run in {string.Join(", ", KernelParameterizations)}.");
    }

    [Fact]
    public void EveryActivationClassIsCoveredByACaseOfItsKernelRoute()
    {
        var types = ConcreteSubclasses(typeof(Activation));
        var unstated = types.Where(t => !CoveredBy.ContainsKey(t)).Select(t => t.Name).ToList();
        Assert.True(unstated.Count == 0, $"Activations whose conformance case is not stated in CoveredBy: {string.Join(", ", unstated)}.");
        Assert.All(CoveredBy.Keys, t => Assert.Contains(t, types));
        var caseActivation = Cases.Where(c => c.Subject.IsSubclassOf(typeof(Activation)))
            .ToDictionary(c => c.Name, c => Activation.Parse(c.Name));
        foreach (var phi in Instances())
        {
            var stated = CoveredBy[phi.GetType()];
            if (stated.Length == 0)
            {
                // No derivative: the NTK is undefined, and a finite network of it evaluates (gp-limit's ensembles) but is
                // never trained, so there is no NTK to conform; its NNGP has no conformance case here.
                Assert.False(phi.IsDifferentiable, $"{phi.Name} has φ′ but no conformance case.");
                var spec = new NetworkSpec([new Dense(4), new ActivationLayer(phi), new Dense(1)]);
                Assert.Equal(phi.Name, new Network<double>(spec, 2).NonDifferentiable);
                continue;
            }
            Assert.True(stated.All(caseActivation.ContainsKey),
                $"{phi.Name}: stated cases {string.Join(", ", stated)} are not all activation cases.");
            Assert.True(stated.Any(s => KernelRoute(caseActivation[s]) == KernelRoute(phi)),
                $"{phi.Name} ({KernelRoute(phi)}) is not in the kernel class of its stated case(s) {string.Join(", ", stated)}.");
        }
        // Each type was instantiated at least once above.
        var seen = Instances().Select(a => a.GetType()).ToHashSet();
        var unseen = types.Where(t => !seen.Contains(t)).Select(t => t.Name).ToList();
        Assert.True(unseen.Count == 0, $"No instance checked of {string.Join(", ", unseen)}.");
    }

    /// <summary>How the kernel engine evaluates E[φφ] and E[φ′φ′] for φ: the code path a conformance case exercises.</summary>
    private static string KernelRoute(Activation phi) => (phi.HasClosedForm, phi.IsScaleInvariant, phi.IsSmooth) switch
    {
        (true, true, _) => "closed form, scale-invariant",
        (true, false, _) => "closed form, not scale-invariant",
        (false, _, true) => "Gauss–Hermite quadrature",
        (false, _, false) => "kink-aware Gauss–Legendre quadrature",
    };

    /// <summary>Every activation known by name (parameterised ones with an example argument) and both kinds of user function.</summary>
    private static IEnumerable<Activation> Instances()
    {
        var examples = new Dictionary<string, string>
        {
            ["leaky_relu"] = "leaky_relu(0.1)",
            ["monomial"] = "monomial(3)",
            ["poly"] = "poly(0.1,1,0.5)",
        };
        foreach (var name in Activation.Names)
        {
            int open = name.IndexOf('(');
            yield return Activation.Parse(open < 0 ? name : examples[name[..open]]);
        }
        yield return Activation.Custom("smooth", Math.Tanh, z => 1 - Math.Tanh(z) * Math.Tanh(z));
        yield return Activation.Custom("kinked", z => Math.Max(z, 0.5 * z), z => z > 0 ? 1 : 0.5, smooth: false);
    }

    private static HashSet<Type> ConcreteSubclasses(Type root) =>
        [.. root.Assembly.GetTypes().Where(t => t.IsSubclassOf(root) && !t.IsAbstract)];

    private static IEnumerable<Layer> LayersOf(IEnumerable<Layer> layers) =>
        layers.SelectMany(l => l is Residual r ? LayersOf(r.Block).Prepend(l) : [l]);

    private static bool HasKernels(Parameterization p, Matrix x)
    {
        try
        {
            NeuralKernels.Compute(NetworkSpec.Parse("dense(4)-relu-dense(1)", p), x);
            return true;
        }
        catch (BadInputException)
        {
            return false;
        }
    }
}
