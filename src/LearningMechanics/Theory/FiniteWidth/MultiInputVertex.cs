using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// Finite-width data of one layer ℓ for a set of m inputs. Pairs p = (a, b), a ≤ b, are numbered in row order
/// (<see cref="Pairs"/>). For neurons i ≠ j the preactivations satisfy
/// E[z_{i;a}z_{i;b}z_{j;c}z_{j;d}] − E[z_{a}z_{b}]E[z_{c}z_{d}] = V_{(ab)(cd)}/n and E[z_a z_b] = K_{ab} + G¹_{ab}/n + O(1/n²)
/// (Roberts &amp; Yaida 2022, eqs. 4.77, 4.104).
/// </summary>
public sealed record MultiInputVertexLayer(int Layer, (int A, int B)[] Pairs, double[] K, double[,] V, double[] G1)
{
    /// <summary>Index of the pair (a, b) in <see cref="Pairs"/>, either order.</summary>
    public int PairIndex(int a, int b) => MultiInputVertex.PairIndex(a, b, Inputs);

    public int Inputs => (int)Math.Round((Math.Sqrt(8 * Pairs.Length + 1) - 1) / 2);

    public double KernelAt(int a, int b) => K[PairIndex(a, b)];
    public double MetricCorrectionAt(int a, int b) => G1[PairIndex(a, b)];
    public double VertexAt(int a, int b, int c, int d) => V[PairIndex(a, b), PairIndex(c, d)];
}

/// <summary>
/// The four-point vertex and NLO metric of an MLP for any set of inputs (Roberts &amp; Yaida 2022, eqs. 4.90 and 4.115, read as the
/// delta method of the layer map). With F_{ab}(K) = C_b + C_W⟨σ_aσ_b⟩_K the next layer's metric, J = ∂F/∂K its
/// Jacobian over the pair variables K_{(cd)} (c ≤ d) and H_p = ∂²F_p/∂K∂K its Hessian:
/// <list type="bullet">
/// <item>K′ = F(K);</item>
/// <item>V′_{pq} = C_W²[⟨σ_aσ_bσ_cσ_d⟩ − ⟨σ_aσ_b⟩⟨σ_cσ_d⟩] + Σ_{rs} J_{pr}V_{rs}J_{qs} (eq. 4.90: Roberts &amp;
/// Yaida's   (C_W²/4)Σ V^{(δ₅δ₆)(δ₇δ₈)}⟨σσ(zz − K)⟩⟨σσ(zz − K)⟩ is J V Jᵀ after Stein's lemma and Price's
/// theorem);</item>
/// <item>G¹′_p = Σ_r J_{pr}G¹_r + ½Σ_{rs}(H_p)_{rs}V_{rs} (eq. 4.115; for one input it is eqs. 5.110–5.111).</item>
/// </list>
/// First layer: K_{ab} = C_b + C_W x_a·x_b/d, V = G¹ = 0; equal hidden widths n. Four-point expectations over up to four
/// distinct inputs are nested kink-aware Gauss–Legendre integrals (<see cref="GaussLegendre.ExpectProduct"/>); J and H
/// of the off-diagonal pairs come from the pair expectation (its ⟨σ′σ′⟩ for ∂/∂K_{ab}, central differences otherwise,
/// Price's form at the PSD edge), those of the diagonal from g′(K) and the single-input j(K) of eq. 5.111.
/// For one input this is <see cref="FourPointVertex.SingleInput"/>; for two, <see cref="PairVertex"/>.
/// </summary>
public static class MultiInputVertex
{
    /// <summary>All pairs (a ≤ b) of m inputs in row order: (0,0), (0,1), …, (0,m−1), (1,1), ….</summary>
    public static (int A, int B)[] Pairs(int m) => [.. from a in Enumerable.Range(0, m) from b in Enumerable.Range(a, m - a) select (a, b)];

    /// <summary>Row-order index of the pair (a, b) among the pairs of m inputs.</summary>
    public static int PairIndex(int a, int b, int m)
    {
        if (a > b) (a, b) = (b, a);
        return a * m - a * (a - 1) / 2 + (b - a);
    }

    /// <summary>Layers 1…<paramref name="layers"/> (the output of L hidden layers is layer L + 1) for the input Gram
    /// matrix <paramref name="gram"/>_{ab} = x_a·x_b/d.</summary>
    public static IReadOnlyList<MultiInputVertexLayer> Compute(Initialization init, Matrix gram, int layers)
    {
        var (act, sw2, sb2) = init;
        int m = gram.Rows;
        if (layers < 1) throw new BadInputException($"Depth {layers} must be ≥ 1.");
        if (m < 1 || gram.Cols != m)
            throw new BadInputException($"The input Gram matrix must be square and non-empty; got {gram.Rows}×{gram.Cols}.");
        for (int a = 0; a < m; a++)
        {
            if (!(gram[a, a] > 0) || !double.IsFinite(gram[a, a]))
                throw new BadInputException($"Input {a} has x·x/d = {gram[a, a]}; it must be positive and finite.");
            for (int b = 0; b < a; b++)
                if (gram[a, b] * gram[a, b] > gram[a, a] * gram[b, b] * (1 + 1e-12)
                    || Math.Abs(gram[a, b] - gram[b, a]) > 1e-12 * Math.Sqrt(gram[a, a] * gram[b, b]))
                    throw new BadInputException(
                        $"Input Gram entries ({a}, {b}) are not those of a symmetric positive semidefinite matrix.");
        }
        // Identical inputs (x_a = x_b) are one variable at every layer: compute on the distinct ones and copy, since the
        // pair (a, b) sits on the PSD edge where the NLO metric's second derivatives are not resolved.
        var first = new int[m];
        for (int a = 0; a < m; a++)
        {
            first[a] = a;
            for (int b = 0; b < a && first[a] == a; b++)
                if (first[b] == b
                    && Enumerable.Range(0, m).All(c => Math.Abs(gram[a, c] - gram[b, c]) <= 1e-12 * Math.Sqrt(gram[a, a] * gram[c, c])))
                    first[a] = b;
        }
        var unique = Enumerable.Range(0, m).Where(a => first[a] == a).ToArray();
        if (unique.Length < m)
        {
            var reduced = new Matrix(unique.Length, unique.Length);
            for (int i = 0; i < unique.Length; i++) for (int j = 0; j < unique.Length; j++) reduced[i, j] = gram[unique[i], unique[j]];
            var position = first.Select(f => Array.IndexOf(unique, f)).ToArray();
            var allPairs = Pairs(m);
            int[] Map(int u) => [.. allPairs.Select(p => PairIndex(position[p.A], position[p.B], u))];
            return Compute(init, reduced, layers).Select(l =>
            {
                var map = Map(unique.Length);
                var v = new double[allPairs.Length, allPairs.Length];
                for (int p = 0; p < allPairs.Length; p++) for (int q = 0; q < allPairs.Length; q++) v[p, q] = l.V[map[p], map[q]];
                return new MultiInputVertexLayer(l.Layer, allPairs, [.. map.Select(i => l.K[i])], v, [.. map.Select(i => l.G1[i])]);
            }).ToList();
        }
        var pairs = Pairs(m);
        int np = pairs.Length;
        double cw = sw2;
        var k = pairs.Select(p => sb2 + cw * gram[p.A, p.B]).ToArray();
        var v = new double[np, np];
        var g1 = new double[np];
        var result = new List<MultiInputVertexLayer>(layers);
        for (int l = 1; l <= layers; l++)
        {
            result.Add(new MultiInputVertexLayer(l, pairs, (double[])k.Clone(), (double[,])v.Clone(), (double[])g1.Clone()));
            if (l == layers) break;
            var step = new Step(act, pairs, k, m);
            var vNext = new double[np, np];
            for (int p = 0; p < np; p++)
                for (int q = p; q < np; q++)
                {
                    double s = 0;
                    foreach (var (r, jr) in step.J[p])
                        foreach (var (t, jt) in step.J[q]) s += jr * v[r, t] * jt;
                    vNext[p, q] = vNext[q, p] = cw * cw * (step.Four(p, q) - step.Two[p] * step.Two[q]) + cw * cw * s;
                }
            var g1Next = new double[np];
            for (int p = 0; p < np; p++)
            {
                double s = 0;
                foreach (var (r, jr) in step.J[p]) s += jr * g1[r];
                var (vars, h) = step.H[p];
                for (int i = 0; i < vars.Length; i++)
                    for (int j = 0; j < vars.Length; j++) s += 0.5 * h[i, j] * v[vars[i], vars[j]];
                g1Next[p] = cw * s;
            }
            k = step.Two.Select(t => sb2 + cw * t).ToArray();
            v = vNext; g1 = g1Next;
            // G¹ may be NaN for pairs at the PSD edge (see PairHessian); K and V must stay finite.
            foreach (var x in k.Concat(v.Cast<double>()))
                if (!double.IsFinite(x)) throw new ArithmeticException($"Multi-input vertex recursion diverged at layer {l + 1}.");
        }
        return result;
    }

    /// <summary>Gaussian expectations of one layer step at kernel K (per unit C_W): ⟨σ_aσ_b⟩, J and H of ⟨σ_aσ_b⟩ in the pair
    /// variables, and ⟨σ_aσ_bσ_cσ_d⟩ on demand.</summary>
    private sealed class Step
    {
        private readonly Activation act;
        private readonly (int A, int B)[] pairs;
        private readonly double[] k;
        private readonly int m;
        public readonly double[] Two;
        public readonly List<(int Var, double D)>[] J;
        public readonly (int[] Vars, double[,] H)[] H;

        public Step(Activation act, (int A, int B)[] pairs, double[] k, int m)
        {
            this.act = act; this.pairs = pairs; this.k = k; this.m = m;
            int np = pairs.Length;
            Two = new double[np];
            J = new List<(int, double)>[np];
            H = new (int[], double[,])[np];
            for (int p = 0; p < np; p++)
            {
                var (a, b) = pairs[p];
                int aa = PairIndex(a, a, m);
                if (a == b)
                {
                    double kk = k[aa];
                    Two[p] = act.Moment(2, kk);
                    J[p] = [(aa, Criticality.ChiParallel(new(act, 1, 0), kk))];
                    // g″(K) = ⟨σ²·He₄(z/√K)⟩/(4K²) (Price twice), the j(K) of Roberts & Yaida 2022, eq. 5.111 per unit C_W
                    // over 8K²·½.
                    double g2 = kk > 0 ? act.ExpectHe4(act.Apply, kk) / (4 * kk * kk) : 0;
                    H[p] = ([aa], new[,] { { g2 } });
                }
                else
                {
                    int bb = PairIndex(b, b, m);
                    double k11 = k[aa];
                    double k12 = k[p];
                    double k22 = k[bb];
                    Two[p] = act.PairExpectation(k11, k12, k22);
                    J[p] = [(aa, PairVertex.PartialDiagonal(act, k11, k12, k22, first: true)),
                            (p, act.DerivativePairExpectation(k11, k12, k22)),
                            (bb, PairVertex.PartialDiagonal(act, k11, k12, k22, first: false))];
                    H[p] = ([aa, p, bb], PairHessian(act, k11, k12, k22));
                }
            }
        }

        private readonly Dictionary<(int, int, int, int), double> fourCache = [];

        /// <summary>⟨σ_aσ_bσ_cσ_d⟩ for pairs p = (a, b), q = (c, d): a product of powers of σ over the distinct inputs,
        /// cached by the sorted input quadruple ((01)(23), (02)(13) and (03)(12) are one integral).</summary>
        public double Four(int p, int q)
        {
            var idx = new[] { pairs[p].A, pairs[p].B, pairs[q].A, pairs[q].B };
            Array.Sort(idx);
            var key = (idx[0], idx[1], idx[2], idx[3]);
            if (fourCache.TryGetValue(key, out double cached)) return cached;
            return fourCache[key] = FourUncached(idx);
        }

        private double FourUncached(int[] idx)
        {
            var distinct = idx.Distinct().ToArray();
            if (distinct.Length == 1) return act.Moment(4, k[PairIndex(distinct[0], distinct[0], m)]);
            var cov = new double[distinct.Length, distinct.Length];
            for (int i = 0; i < distinct.Length; i++)
                for (int j = 0; j < distinct.Length; j++) cov[i, j] = k[PairIndex(distinct[i], distinct[j], m)];
            var f = distinct.Select(d =>
            {
                int power = idx.Count(x => x == d);
                return (Func<double, double>)(power switch
                {
                    1 => act.Apply,
                    2 => z => { double s = act.Apply(z); return s * s; },
                    _ => z => { double s = act.Apply(z); return s * s * s; },
                });
            }).ToArray();
            return GaussLegendre.ExpectProduct(f, cov);
        }

        /// <summary>
        /// Hessian of E[σ(u)σ(v)] in (K_uu, K_uv, K_vv) by central differences of the pair expectation, with steps inside
        /// the PSD cone. At the cone's edge (|c| → 1) the second derivatives are not resolved and NaN is returned.
        /// </summary>
        private static double[,] PairHessian(Activation act, double k11, double k12, double k22)
        {
            var h = new double[3, 3];
            double room = k11 * k22 - k12 * k12;
            double scale = Math.Sqrt(k11 * k22);
            if (room < 1e-4 * scale * scale)
            {
                for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) h[i, j] = double.NaN;
                return h;
            }
            // Steps small enough that every stencil point stays positive definite: det changes by at most ~|δ|·(k11 + k22 + 2|k12|).
            var x0 = new[] { k11, k12, k22 };
            var step = new[] { 2e-3 * k11, 2e-3 * scale, 2e-3 * k22 };
            double limit = 0.1 * room / (k11 + k22 + 2 * Math.Abs(k12));
            for (int i = 0; i < 3; i++) step[i] = Math.Min(step[i], limit);
            double F(int i, double di, int j, double dj)
            {
                var x = (double[])x0.Clone();
                x[i] += di; x[j] += dj;
                return act.PairExpectation(x[0], x[1], x[2]);
            }
            double f0 = act.PairExpectation(k11, k12, k22);
            for (int i = 0; i < 3; i++)
            {
                double si = step[i];
                h[i, i] = (F(i, si, i, 0) - 2 * f0 + F(i, -si, i, 0)) / (si * si);
                for (int j = 0; j < i; j++)
                {
                    double sj = step[j];
                    h[i, j] = h[j, i] = (F(i, si, j, sj) - F(i, si, j, -sj) - F(i, -si, j, sj) + F(i, -si, j, -sj)) / (4 * si * sj);
                }
            }
            return h;
        }
    }
}
