using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// Bayesian posterior of an MLP's outputs at test inputs, to order 1/n: E[z_{i;β} | y] = GpMean + (Metric + Vertex)/n and
/// Var[z_{i;β} | y] = GpVariance + VarianceCorrection/n. Rows are test inputs, columns output components.
/// </summary>
/// <param name="GpMean">The infinite-width (NNGP) posterior mean m_{i;β} = K_{βA}(K_{AA} + σ_ε²)⁻¹y_i
/// (Roberts &amp; Yaida 2022, eq. 6.81).</param>
/// <param name="GpVariance">The NNGP posterior variance of z_β, K_{ββ} − K_{βA}(K_{AA} + σ_ε²)⁻¹K_{Aβ} (eq. 6.82).</param>
/// <param name="Metric">Coefficient of 1/n from the NLO metric G¹ in the GP formula.</param>
/// <param name="Vertex">Coefficient of 1/n from the four-point vertex (eq. 6.88's v-terms).</param>
/// <param name="VarianceCorrection">Coefficient of 1/n in the posterior variance (NLO metric and vertex parts).</param>
public sealed record PosteriorExpansion(Matrix GpMean, double[] GpVariance, Matrix Metric, Matrix Vertex, Matrix VarianceCorrection)
{
    /// <summary>Total coefficient of 1/n.</summary>
    public double Correction(int test, int component) => Metric[test, component] + Vertex[test, component];

    /// <summary>The predicted posterior mean at hidden width n.</summary>
    public double MeanAt(int test, int component, double n) => GpMean[test, component] + Correction(test, component) / n;

    /// <summary>The predicted posterior variance at hidden width n.</summary>
    public double VarianceAt(int test, int component, double n) => GpVariance[test] + VarianceCorrection[test, component] / n;
}

/// <summary>
/// Bayesian inference with a finite-width MLP prior (Roberts &amp; Yaida 2022, §6.4.2, eqs. 6.79–6.88). The prior of the outputs on the
/// data set D = A ∪ {β} is nearly Gaussian: covariance δ_ij(K + G¹/n) and connected four-point function
/// (1/n)[δ_{i₁i₂}δ_{i₃i₄}V_{(δ₁δ₂)(δ₃δ₄)} + 2 pairings] (eq. 4.77), from <see cref="MultiInputVertex"/>. Conditioning
/// on y_{i;α} = z_{i;α} + ε (σ_ε² = 0: Roberts &amp; Yaida's exact observations) by the Edgeworth expansion of the joint density
/// gives E[z_{i;β}|y] = Σ_{βA}S⁻¹y_i + (1/6)Σ κ(a₁, a₂, a₃, w_{i;β})·He₃(y)_{a₁a₂a₃}, with S = K_{AA} + σ_ε²I, w
/// = z_β − t·z_A, t = S⁻¹K_{Aβ} and the Hermite tensor He₃ = ûûû − 3·û S⁻¹ (û = S⁻¹y). Written out with
/// Ṽ_{(α₁α₂)(α₃)} = V_{(α₁α₂)(α₃β)} − Σ_α t_α V_{(α₁α₂)(α₃α)}:
/// <code>
/// Vertex_i = ½[Σ_j Σ Ṽ_{(α₁α₂)(α₃)} û_{j;α₁}û_{j;α₂}û_{i;α₃}
/// − Σ_{α₁} û_{i;α₁}(2Σ Ṽ_{(α₁α₂)(α₃)}S⁻¹_{α₂α₃} + n_out Σ Ṽ_{(α₂α₃)(α₁)}S⁻¹_{α₂α₃})]
///  Metric_i = (G¹_{βA} − tᵀG¹_{AA}) S⁻¹ y_i
/// </code>
/// This is Roberts &amp; Yaida's eq. 6.88 (its naive mean plus the v-terms, which Wick-contract to the same cubic and linear terms)
/// written with the vertex instead of the quartic coupling; the sum over j is the "wiring together" of output components
/// (eq. 6.89): at finite width y_j moves the prediction for component i ≠ j. The same expansion at second order in w
/// (derived here; Roberts &amp; Yaida stop at the mean) gives Var[z_{i;β}|y] = G + ½Σ κ(a₁, a₂, w_{i;β},
/// w_{i;β})·He₂(y)_{a₁a₂} with He₂ = ûû − S⁻¹, i.e. with Ṽ2_{α₁α₂} = V_{(α₁α₂)(ww)} and Ṽ11_{α₁α₂} =
/// V_{(α₁w)(α₂w)} (both slots w = β − t·A):
/// <code>
/// VarianceCorrection_i = (G¹_ββ − 2tᵀG¹_{Aβ} + tᵀG¹_{AA}t)
/// + ½[Σ Ṽ2_{α₁α₂}(Σ_j û_{j;α₁}û_{j;α₂} − n_out S⁻¹_{α₁α₂}) + 2Σ Ṽ11_{α₁α₂}(û_{i;α₁}û_{i;α₂}
/// − S⁻¹_{α₁α₂})]
/// </code>
/// </summary>
public static class FiniteWidthPosterior
{
    /// <summary>
    /// The expansion for an MLP with <paramref name="hiddenLayers"/> hidden layers (outputs are layer L + 1) observed at
    /// <paramref name="xTrain"/> (N_A × d) with targets <paramref name="yTrain"/> (N_A × outputs) and Gaussian observation
    /// noise of variance <paramref name="noise"/> ≥ 0, predicted at each row of <paramref name="xTest"/>.
    /// </summary>
    public static PosteriorExpansion Mean(Initialization init, int hiddenLayers, Matrix xTrain, Matrix yTrain, Matrix xTest,
        double noise = 0)
    {
        if (yTrain.Rows != xTrain.Rows) throw new BadInputException($"Targets have {yTrain.Rows} rows for {xTrain.Rows} training inputs.");
        return Mean(OutputLayers(init, hiddenLayers, xTrain, xTest), yTrain, noise);
    }

    /// <summary>
    /// The output layer's kernel, vertex and NLO metric on A ∪ {β} for each test input β (β the last input): the part of
    /// the expansion that does not depend on the targets, to be reused for several of them.
    /// </summary>
    public static MultiInputVertexLayer[] OutputLayers(Initialization init, int hiddenLayers, Matrix xTrain,
        Matrix xTest)
    {
        if (xTrain.Rows < 1) throw new BadInputException("The training set is empty.");
        if (xTest.Cols != xTrain.Cols)
            throw new BadInputException($"Test inputs have dimension {xTest.Cols}, training inputs {xTrain.Cols}.");
        if (hiddenLayers < 1) throw new BadInputException($"Hidden layers {hiddenLayers} must be ≥ 1.");
        return [.. Enumerable.Range(0, xTest.Rows).Select(b =>
            MultiInputVertex.Compute(init, Inputs.Gram(Matrix.Stack(xTrain, xTest.RowRange(b, 1))), hiddenLayers + 1)[^1])];
    }

    /// <summary>The expansion for targets <paramref name="yTrain"/> given <see cref="OutputLayers"/>.</summary>
    public static PosteriorExpansion Mean(IReadOnlyList<MultiInputVertexLayer> layers, Matrix yTrain, double noise = 0)
    {
        int nb = layers.Count;
        int outputs = yTrain.Cols;
        if (!(noise >= 0) || !double.IsFinite(noise))
            throw new BadInputException($"Observation noise variance {noise} must be ≥ 0 and finite.");
        for (int k = 0; k < yTrain.Data.Length; k++)
            if (!double.IsFinite(yTrain.Data[k]))
                throw new BadInputException($"Target ({k / outputs}, {k % outputs}) is {yTrain.Data[k]}; targets must be finite.");
        var gp = new Matrix(nb, outputs);
        var metric = new Matrix(nb, outputs);
        var vertex = new Matrix(nb, outputs);
        var varCorr = new Matrix(nb, outputs);
        var gpVar = new double[nb];
        for (int b = 0; b < nb; b++)
        {
            if (layers[b].Inputs - 1 != yTrain.Rows)
                throw new BadInputException($"Targets have {yTrain.Rows} rows for {layers[b].Inputs - 1} training inputs.");
            var result = AtTestPoint(layers[b], yTrain, noise);
            for (int i = 0; i < outputs; i++)
            {
                gp[b, i] = result.Gp[i];
                metric[b, i] = result.Metric[i];
                vertex[b, i] = result.Vertex[i];
                varCorr[b, i] = result.VarianceCorrection[i];
            }
            gpVar[b] = result.Variance;
        }
        return new PosteriorExpansion(gp, gpVar, metric, vertex, varCorr);
    }

    /// <summary>The expansion at one test input, given the output layer's data on A ∪ {β} (β is the last input).</summary>
    public static (double[] Gp, double Variance, double[] Metric, double[] Vertex, double[] VarianceCorrection) AtTestPoint(
        MultiInputVertexLayer layer, Matrix y, double noise)
    {
        int na = layer.Inputs - 1;
        int beta = na;
        int outputs = y.Cols;
        var s = new Matrix(na, na);
        for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) s[a, c] = layer.KernelAt(a, c) + (a == c ? noise : 0);
        Matrix p;
        try { p = Lapack.CholeskySolve(Lapack.Cholesky(s), Matrix.Identity(na)); }
        catch (NotPositiveDefiniteException)
        {
            throw new BadInputException("The training kernel K_AA + σ_ε²I is singular " +
                "(repeated training inputs without observation noise); add noise or remove duplicates.");
        }
        var t = new double[na];
        for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) t[a] += p[a, c] * layer.KernelAt(c, beta);
        double variance = layer.KernelAt(beta, beta);
        for (int a = 0; a < na; a++) variance -= t[a] * layer.KernelAt(a, beta);
        // û_j = S⁻¹y_j per output component.
        var u = new double[outputs, na];
        for (int j = 0; j < outputs; j++) for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) u[j, a] += p[a, c] * y[c, j];
        // Ṽ_{(α₁α₂)(α₃)}: the vertex with its fourth input replaced by w = β − t·A.
        var vt = new double[na, na, na];
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) for (int a3 = 0; a3 < na; a3++)
        {
            double v = layer.VertexAt(a1, a2, a3, beta);
            for (int a = 0; a < na; a++) v -= t[a] * layer.VertexAt(a1, a2, a3, a);
            vt[a1, a2, a3] = v;
        }
        // Contractions with S⁻¹: r₁[α₁] = Σ Ṽ_{(α₁α₂)(α₃)}S⁻¹_{α₂α₃}, r₂[α₁] = Σ
        // Ṽ_{(α₂α₃)(α₁)}S⁻¹_{α₂α₃}.
        var r1 = new double[na];
        var r2 = new double[na];
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) for (int a3 = 0; a3 < na; a3++)
        {
            r1[a1] += vt[a1, a2, a3] * p[a2, a3];
            r2[a1] += vt[a2, a3, a1] * p[a2, a3];
        }
        // q[α₃] = Σ_j Σ_{α₁α₂} Ṽ_{(α₁α₂)(α₃)} û_{j;α₁}û_{j;α₂}: the part shared by every component i.
        var q = new double[na];
        for (int j = 0; j < outputs; j++)
            for (int a1 = 0; a1 < na; a1++)
                for (int a2 = 0; a2 < na; a2++)
                    for (int a3 = 0; a3 < na; a3++)
                        q[a3] += vt[a1, a2, a3] * u[j, a1] * u[j, a2];
        // G¹ part: (G¹_{βA} − tᵀG¹_{AA})S⁻¹y_i.
        var g = new double[na];
        for (int a = 0; a < na; a++)
        {
            g[a] = layer.MetricCorrectionAt(beta, a);
            for (int c = 0; c < na; c++) g[a] -= t[c] * layer.MetricCorrectionAt(c, a);
        }
        var gpMean = new double[outputs];
        var metric = new double[outputs];
        var vertex = new double[outputs];
        for (int i = 0; i < outputs; i++)
        {
            double cubic = 0;
            double linear = 0;
            for (int a = 0; a < na; a++)
            {
                gpMean[i] += t[a] * y[a, i];
                metric[i] += g[a] * u[i, a];
                cubic += q[a] * u[i, a];
                linear += u[i, a] * (2 * r1[a] + outputs * r2[a]);
            }
            vertex[i] = 0.5 * (cubic - linear);
        }
        // Variance: the vertex with two slots w = β − t·A (Ṽ2: both in one pair, Ṽ11: one in each) and the G¹ part.
        double W(Func<int, double> f) { double r = f(beta); for (int a = 0; a < na; a++) r -= t[a] * f(a); return r; }
        var v2 = new double[na, na];
        var v11 = new double[na, na];
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++)
        {
            int b1 = a1;
            int b2 = a2;
            v2[a1, a2] = W(c => W(e => layer.VertexAt(b1, b2, c, e)));
            v11[a1, a2] = W(c => W(e => layer.VertexAt(b1, c, b2, e)));
        }
        double gVar = W(c => W(e => layer.MetricCorrectionAt(c, e)));
        double shared = 0;
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++)
        {
            double uu = 0;
            for (int j = 0; j < outputs; j++) uu += u[j, a1] * u[j, a2];
            shared += v2[a1, a2] * (uu - outputs * p[a1, a2]);
        }
        var varCorr = new double[outputs];
        for (int i = 0; i < outputs; i++)
        {
            double own = 0;
            for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) own += v11[a1, a2] * (u[i, a1] * u[i, a2] - p[a1, a2]);
            varCorr[i] = gVar + 0.5 * (shared + 2 * own);
        }
        return (gpMean, variance, metric, vertex, varCorr);
    }
}
