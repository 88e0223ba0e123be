using System.Diagnostics;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.MeanField;

/// <summary>
/// A two-layer mean-field network trained by full-batch GD on the MSE L = (1/(P·C))Σ(f − y)² (the lab's loss): hidden
/// pre-activations h_i(x) = σ_w·w_i·x/√D + σ_b·b_i, output f_c(x) = (σ_r/(γ₀N))Σ_i a_ic·φ(h_i(x)), every parameter stepped by
/// η·γ₀²·N times its gradient (Bordelon &amp; Pehlevan 2022, eq. 1 with L = 1; the lab's <c>--param mf --gamma0 γ₀</c> network,
/// <see cref="NetworkSpec.Gamma0"/>). The readout has no bias (its O(1) random initial value does not average out).
/// </summary>
public sealed record TwoLayerProblem(Matrix X, Matrix Y, Activation Activation, double Gamma0, double LearningRate, int Steps)
{
    /// <summary>σ_w² of the hidden layer.</summary>
    public double Sw2 { get; init; } = 1;
    /// <summary>σ_b² of the hidden layer.</summary>
    public double Sb2 { get; init; }
    /// <summary>σ_r²: the readout's σ_w².</summary>
    public double ReadoutSw2 { get; init; } = 1;

    public int Points => X.Rows;
    public int Outputs => Y.Cols;

    /// <summary>
    /// The problem of a two-layer architecture <c>dense(n)-φ-dense(C)</c> under <c>--param mf</c> (or <c>mup</c> with every
    /// σ_w² = 1 and σ_b² = 0, where the two forms train identically) with its γ₀; the hidden width n is irrelevant (the DMFT is
    /// its n → ∞ limit). Anything else is refused with the reason.
    /// </summary>
    public static TwoLayerProblem FromSpec(NetworkSpec spec, Matrix x, Matrix y, double learningRate, int steps)
    {
        if (spec.Layers is not [Dense hidden, ActivationLayer act, Dense readout])
            throw new BadInputException($"Architecture '{spec.ToText()}': the two-layer DMFT solves dense(n)-φ-dense(C) " +
                "(one hidden layer, e.g. dense(512)-tanh-dense(1)).");
        if (readout.Width != y.Cols)
            throw new BadInputException($"The readout has {readout.Width} outputs but the targets {y.Cols} columns.");
        double sw2 = hidden.Sw2 ?? spec.Sw2, sb2 = hidden.Sb2 ?? spec.Sb2;
        double rw2 = readout.Sw2 ?? spec.Sw2, rb2 = readout.Sb2 ?? spec.Sb2;
        if (rb2 != 0)
            throw new BadInputException($"Readout σ_b² = {rb2}: the DMFT needs a readout without bias (its O(1) random initial " +
                "value does not average out at infinite width); write dense(C,sb2=0) or --sb2 0.");
        bool unitMup = spec.Param == Parameterization.MuP && sw2 == 1 && sb2 == 0 && rw2 == 1 && spec.BaseWidth is null;
        if (spec.Param != Parameterization.MeanField && !unitMup)
            throw new BadInputException($"Parameterisation {spec.Param.ToText()}: the DMFT is the limit of the mean-field form " +
                "(--param mf; μP only with σ_w² = 1, σ_b² = 0 and no base width, where it trains identically). For the lazy " +
                "limit of ntk or sp networks use lmech predict.");
        return new TwoLayerProblem(x, y, act.Activation, spec.Gamma0, learningRate, steps) { Sw2 = sw2, Sb2 = sb2, ReadoutSw2 = rw2 }
            .Validated();
    }

    /// <summary>K⁰ = σ_w²·XXᵀ/D + σ_b²: the covariance of the hidden pre-activations over the P training points.</summary>
    public Matrix InputKernel()
    {
        var k = Matrix.Multiply(X, X, Transpose.No, Transpose.Yes);
        for (int i = 0; i < k.Data.Length; i++) k.Data[i] = Sw2 * k.Data[i] / X.Cols + Sb2;
        return k;
    }

    /// <summary>Checks shapes and numbers, naming the bad value.</summary>
    public TwoLayerProblem Validated()
    {
        if (X.Rows < 1 || X.Cols < 1)
            throw new BadInputException($"The inputs must have at least one row and column, got {X.Rows}×{X.Cols}.");
        if (Y.Rows != X.Rows) throw new BadInputException($"The targets have {Y.Rows} rows but the inputs {X.Rows}.");
        if (Y.Cols < 1) throw new BadInputException("The targets need at least one column.");
        if (X.Data.Concat(Y.Data).Any(v => !double.IsFinite(v))) throw new BadInputException("Inputs or targets contain NaN or infinity.");
        if (!(Gamma0 > 0) || !double.IsFinite(Gamma0)) throw new BadInputException($"γ₀ = {Gamma0} must be a positive finite number.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            throw new BadInputException($"Learning rate {LearningRate} must be a positive finite number.");
        if (Steps < 0) throw new BadInputException($"Steps {Steps} must be ≥ 0.");
        bool sigmas = Sw2 > 0 && double.IsFinite(Sw2) && Sb2 >= 0 && double.IsFinite(Sb2)
            && ReadoutSw2 > 0 && double.IsFinite(ReadoutSw2);
        if (!sigmas)
            throw new BadInputException($"σ_w² = {Sw2}, σ_b² = {Sb2}, readout σ_w² = {ReadoutSw2}: need σ_w² > 0, σ_b² ≥ 0.");
        if (!Activation.IsDifferentiable)
            throw new BadInputException($"Activation '{Activation.Name}' has no derivative: GD cannot train it.");
        return this;
    }
}

/// <summary>
/// The infinite-width solution at the recorded steps: the MC estimate (mean over independent replicas) and its standard error
/// (spread of the replicas / √R). Kernels are P × P: Φ(t, t) = E[φ(h(t))φ(h(t))ᵀ],
/// G(t, t) = E[|a(t)|²/C·φ′(h(t))φ′(h(t))ᵀ] and the output-averaged NTK Θ = σ_r²·(Φ + G ⊙ K⁰), which drives
/// f(t+1) − f(t) ≈ −η·Θ·∂L/∂f.
/// </summary>
public sealed record DmftSolution(int[] Steps, double[] Loss, double[] LossSe, Matrix[] Outputs, Matrix[] Phi, Matrix[] PhiSe,
    Matrix[] Ntk, DmftReplica[] Replicas, int Samples, string Status, int? DivergedAt, double Seconds)
{
    public bool Diverged => DivergedAt is not null;

    /// <summary>A derived scalar of the solution (a function of the replicas' mean) and its jackknife standard error over the
    /// replicas (delete-one means; Efron &amp; Tibshirani 1993, ch. 11).</summary>
    public (double Value, double Se) Jackknife(Func<DmftReplica, double> value)
    {
        int r = Replicas.Length;
        double full = value(DmftReplica.Mean(Replicas));
        if (r < 2) return (full, double.NaN);
        var loo = new double[r];
        for (int i = 0; i < r; i++) loo[i] = value(DmftReplica.Mean([.. Replicas.Where((_, j) => j != i)]));
        double mean = loo.Average();
        return (full, Math.Sqrt((r - 1.0) / r * loo.Sum(v => (v - mean) * (v - mean))));
    }
}

/// <summary>One independent Monte Carlo solve: losses, outputs and kernels at the recorded steps.</summary>
public sealed record DmftReplica(double[] Loss, Matrix[] Outputs, Matrix[] Phi, Matrix[] Ntk)
{
    /// <summary>Entrywise mean of several replicas (the loss too: the mean of the replicas' losses).</summary>
    public static DmftReplica Mean(IReadOnlyList<DmftReplica> set)
    {
        static Matrix[] Avg(IReadOnlyList<Matrix[]> m) => [.. Enumerable.Range(0, m[0].Length).Select(k =>
        {
            var s = new Matrix(m[0][k].Rows, m[0][k].Cols);
            foreach (var r in m) for (int i = 0; i < s.Data.Length; i++) s.Data[i] += r[k].Data[i] / m.Count;
            return s;
        })];
        return new DmftReplica([.. Enumerable.Range(0, set[0].Loss.Length).Select(k => set.Average(r => r.Loss[k]))],
            Avg([.. set.Select(r => r.Outputs)]), Avg([.. set.Select(r => r.Phi)]), Avg([.. set.Select(r => r.Ntk)]));
    }
}

/// <summary>
/// Dynamical mean-field theory of a two-layer network (Bordelon &amp; Pehlevan 2022, §4 and App. D; Mei et al. 2018 for
/// gradient flow): at infinite width the hidden neurons are iid, each an independent copy of the single-site process
/// a(0) ~ N(0, I_C), h(0) ~ N(0, K⁰) on the P training points, driven by the shared error Δ(t) = y − f(t):
/// <code>
///   a_c(t+1) = a_c(t) + κ·Σ_μ Δ_μc(t)·φ(h_μ(t)),
///   h_ν(t+1) = h_ν(t) + κ·Σ_μ (Σ_c Δ_μc(t)·a_c(t))·φ′(h_μ(t))·K⁰_μν,      κ = η·γ₀·σ_r·2/(P·C),
///   f_c(t) = (σ_r/γ₀)·E[a_c(t)·φ(h(t)) − a_c(0)·φ(h(0))]
/// </code>
/// (the last term is zero in expectation; subtracting it removes the 1/γ₀ amplification of the sampling noise). These are the
/// finite network's GD equations with the average over neurons replaced by the expectation over the process (h is linear in the
/// first layer's weights, so its update is exact for a finite step). Solved by sampling S neurons in R independent replicas
/// (R·(S/R) = S) run forward in time; the output is exact in time, so there is no fixed-point iteration for L = 1. Cost:
/// O(S·P·(P + C)) per step, memory O(S·(P + C)) per replica. γ₀ → 0 recovers the NTK's kernel dynamics (features frozen at
/// O(γ₀²)); at γ₀ = O(1) the kernels move: feature learning.
/// </summary>
public static class TwoLayerDmft
{
    /// <summary>The most samples accepted (memory: S·(3P + 2C) doubles).</summary>
    public const int MaxSamples = 1 << 24;

    /// <summary>Solves <paramref name="problem"/> with <paramref name="samples"/> neurons in <paramref name="replicas"/> independent
    /// replicas, recording every <paramref name="recordEvery"/> steps and at the end.</summary>
    public static DmftSolution Solve(TwoLayerProblem problem, int samples, int replicas, int recordEvery, Rng rng,
        IProgress<ProgressInfo>? progress = null, CancellationToken cancel = default)
    {
        problem.Validated();
        if (replicas < 1 || replicas > 64) throw new BadInputException($"Replicas {replicas} must be in 1…64.");
        if (samples < 2 * replicas || samples > MaxSamples)
            throw new BadInputException($"Samples {samples} must be in {2 * replicas}…{MaxSamples:N0} (at least 2 per replica).");
        if (recordEvery < 1) throw new BadInputException($"Record interval {recordEvery} must be ≥ 1.");
        long bytes = 8L * samples * (4L * problem.Points + 2L * problem.Outputs);
        if (bytes > MaxBytes)
            throw new BadInputException($"{samples:N0} samples × {problem.Points} points need {bytes / 1e9:F1} GB; at most " +
                $"{MaxBytes / 1e9:F0} GB are allowed: fewer samples or points.");
        var steps = Enumerable.Range(0, problem.Steps + 1).Where(t => t % recordEvery == 0 || t == problem.Steps).ToArray();
        var clock = Stopwatch.StartNew();
        var root = Sqrt(problem.InputKernel());
        var results = new (DmftReplica Replica, int? Diverged)[replicas];
        int done = 0;
        Blas.SingleThreaded(() => Parallel.For(0, replicas, new ParallelOptions { CancellationToken = cancel }, r =>
        {
            results[r] = new Replica(problem, root, samples / replicas + (r < samples % replicas ? 1 : 0), rng.Split((ulong)r))
                .Run(steps, cancel);
            progress?.Report(new ProgressInfo("DMFT replicas", Interlocked.Increment(ref done), replicas));
        }));
        int? diverged = results.Select(x => x.Diverged).Where(d => d is not null).Min();
        var set = results.Select(x => x.Replica).ToArray();
        var mean = DmftReplica.Mean(set);
        var lossSe = new double[steps.Length];
        var phiSe = new Matrix[steps.Length];
        for (int k = 0; k < steps.Length; k++)
        {
            lossSe[k] = replicas > 1 ? Statistics.StandardError([.. set.Select(x => x.Loss[k])]) : double.NaN;
            phiSe[k] = new Matrix(problem.Points, problem.Points);
            for (int i = 0; i < phiSe[k].Data.Length; i++)
                phiSe[k].Data[i] = replicas > 1 ? Statistics.StandardError([.. set.Select(x => x.Phi[k].Data[i])]) : double.NaN;
        }
        return new DmftSolution(steps, mean.Loss, lossSe, mean.Outputs, mean.Phi, phiSe, mean.Ntk, set, samples,
            diverged is null ? "completed" : "diverged", diverged, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Largest state the solver allocates: 16 GB.</summary>
    public const long MaxBytes = 16_000_000_000;

    /// <summary>A square root R of the PSD K⁰ = R·Rᵀ (eigenvalues clamped at 0, so a singular K⁰ is fine).</summary>
    private static Matrix Sqrt(Matrix k)
    {
        var (values, vectors) = Lapack.SymmetricEigen(k);
        var r = vectors.Clone();
        for (int i = 0; i < r.Rows; i++) for (int j = 0; j < r.Cols; j++) r[i, j] *= Math.Sqrt(Math.Max(values[j], 0));
        return r;
    }

    /// <summary>The state of one replica: S neurons' readouts a (S × C) and pre-activations h (S × P), with work buffers.</summary>
    private sealed class Replica
    {
        private readonly TwoLayerProblem p;
        private readonly int s;
        private readonly int pts;
        private readonly int c;
        private readonly double[] a;
        private readonly double[] h;
        private readonly double[] phi;
        private readonly double[] work;
        private readonly double[] initial;       // C × P: Σ_i a_i(0)·φ(h_i(0))ᵀ
        private readonly double[] kx;
        private readonly double[] delta;

        public Replica(TwoLayerProblem problem, Matrix root, int samples, Rng rng)
        {
            p = problem;
            s = samples;
            pts = problem.Points;
            c = problem.Outputs;
            a = new double[s * c];
            h = new double[s * pts];
            phi = new double[s * pts];
            work = new double[s * pts];
            initial = new double[c * pts];
            kx = problem.InputKernel().Data;
            delta = new double[pts * c];
            rng.Split(0).FillGaussian(a);
            rng.Split(1).FillGaussian(work);
            // h = Z·Rᵀ: each row a draw of N(0, K⁰).
            Blas.Gemm(Transpose.No, Transpose.Yes, s, pts, pts, 1.0, work, pts, root.Data, pts, 0.0, h, pts);
        }

        public (DmftReplica, int?) Run(int[] record, CancellationToken cancel)
        {
            int n = record.Length;
            var loss = new double[n];
            var outputs = new Matrix[n];
            var kernels = new Matrix[n];
            var ntks = new Matrix[n];
            double kappa = p.LearningRate * p.Gamma0 * Math.Sqrt(p.ReadoutSw2) * 2 / (pts * c);
            double outScale = Math.Sqrt(p.ReadoutSw2) / (p.Gamma0 * s);
            double scale = Math.Max(1, p.Y.Data.Average(v => v * v));
            int next = 0;
            int? diverged = null;
            var f = new double[pts * c];
            for (int t = 0; t <= p.Steps; t++)
            {
                cancel.ThrowIfCancellationRequested();
                Pointwise<double>.Apply(p.Activation, h, phi);
                // f = (σ_r/(γ₀S))·(Σ_i a_i φ_iᵀ − initial), as P × C: fᵀ = aᵀ·φ (C × P).
                if (t == 0) Blas.Gemm(Transpose.Yes, Transpose.No, c, pts, s, 1.0, a, c, phi, pts, 0.0, initial, pts);
                Blas.Gemm(Transpose.Yes, Transpose.No, c, pts, s, 1.0, a, c, phi, pts, 0.0, work, pts);
                double l = 0;
                for (int mu = 0; mu < pts; mu++)
                    for (int k = 0; k < c; k++)
                    {
                        f[mu * c + k] = outScale * (work[k * pts + mu] - initial[k * pts + mu]);
                        double d = p.Y[mu, k] - f[mu * c + k];
                        delta[mu * c + k] = d;
                        l += d * d;
                    }
                l /= pts * c;
                if (!double.IsFinite(l) || l > DivergenceFactor * scale)
                {
                    diverged = t;
                    for (; next < n; next++)
                    {
                        loss[next] = double.NaN;
                        outputs[next] = Nan(pts, c);
                        kernels[next] = Nan(pts, pts);
                        ntks[next] = Nan(pts, pts);
                    }
                    break;
                }
                if (next < n && record[next] == t)
                {
                    loss[next] = l;
                    outputs[next] = new Matrix(pts, c, (double[])f.Clone());
                    (kernels[next], ntks[next]) = Kernels();
                    next++;
                }
                if (t == p.Steps) break;
                // work = (a·Δᵀ) ⊙ φ′(h): the backward signal of each neuron at each point.
                Blas.Gemm(Transpose.No, Transpose.Yes, s, pts, c, 1.0, a, c, delta, c, 0.0, work, pts);
                Pointwise<double>.MultiplyDerivative(p.Activation, h, phi, work, work);
                // a += κ·φ·Δ; h += κ·work·K⁰ (both from the state at t).
                Blas.Gemm(Transpose.No, Transpose.No, s, c, pts, kappa, phi, pts, delta, c, 1.0, a, c);
                Blas.Gemm(Transpose.No, Transpose.No, s, pts, pts, kappa, work, pts, kx, pts, 1.0, h, pts);
            }
            return (new DmftReplica(loss, outputs, kernels, ntks), diverged);
        }

        /// <summary>Φ = φᵀφ/S and Θ = σ_r²·(Φ + G ⊙ K⁰) with G = Σ_i |a_i|²/C·φ′_iφ′_iᵀ/S.</summary>
        private (Matrix Phi, Matrix Ntk) Kernels()
        {
            var k = new Matrix(pts, pts);
            Blas.Gemm(Transpose.Yes, Transpose.No, pts, pts, s, 1.0 / s, phi, pts, phi, pts, 0.0, k.Data, pts);
            for (int i = 0; i < s; i++)
            {
                double norm = 0;
                for (int j = 0; j < c; j++) norm += a[i * c + j] * a[i * c + j];
                work.AsSpan(i * pts, pts).Fill(Math.Sqrt(norm / c));
            }
            Pointwise<double>.MultiplyDerivative(p.Activation, h, phi, work, work);
            var g = new Matrix(pts, pts);
            Blas.Gemm(Transpose.Yes, Transpose.No, pts, pts, s, 1.0 / s, work, pts, work, pts, 0.0, g.Data, pts);
            var ntk = new Matrix(pts, pts);
            for (int i = 0; i < ntk.Data.Length; i++) ntk.Data[i] = p.ReadoutSw2 * (k.Data[i] + g.Data[i] * kx[i]);
            return (k, ntk);
        }

        private static Matrix Nan(int rows, int cols)
        {
            var m = new Matrix(rows, cols);
            Array.Fill(m.Data, double.NaN);
            return m;
        }
    }

    /// <summary>A loss above this multiple of max(1, mean y²) counts as divergence.</summary>
    public const double DivergenceFactor = 1e6;
}
