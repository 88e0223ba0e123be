using System.Runtime.CompilerServices;

namespace LearningMechanics.Numerics;

/// <summary>
/// Deterministic, splittable random generator: xoshiro256** (Blackman &amp; Vigna 2018) seeded through SplitMix64,
/// with Gaussian draws by the 256-layer ziggurat (Marsaglia &amp; Tsang 2000, "The ziggurat method for generating
/// random variables", J. Stat. Softw. 5(8)). <see cref="Split(ulong)"/> derives an independent child stream from the
/// generator's <em>key</em> and a stream index without consuming draws, so work split over threads by index draws
/// the same numbers whatever the scheduling: <c>new Rng(seed).Split(i)</c> is a pure function of (seed, i).
/// </summary>
public sealed class Rng
{
    private State state;
    private readonly ulong key;

    public Rng(ulong seed)
    {
        key = seed;
        ulong x = seed;
        state = new State { S0 = SplitMix(ref x), S1 = SplitMix(ref x), S2 = SplitMix(ref x), S3 = SplitMix(ref x) };
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0) state.S0 = 1;
    }

    /// <summary>An independent generator for stream <paramref name="stream"/>; same (key, stream) → same draws.</summary>
    public Rng Split(ulong stream)
    {
        ulong x = key ^ 0x9E3779B97F4A7C15UL * (stream + 1);
        ulong mixed = SplitMix(ref x) ^ State.Rotl(key, 17);
        return new Rng(SplitMix(ref mixed));
    }

    /// <summary>Child stream for a multi-index such as (network, width).</summary>
    public Rng Split(ulong stream, ulong substream) => Split(stream).Split(substream);

    public ulong NextUInt64() => state.Next();

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (state.Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Upper bound {n} must be positive.");
        return (int)((state.Next() >> 33) * (ulong)n >> 31);
    }

    /// <summary>One standard normal draw.</summary>
    public double NextGaussian() => Ziggurat.Sample(ref state);

    /// <summary>Fills <paramref name="dst"/> with iid N(0, σ²) draws.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FillGaussian(Span<double> dst, double sigma = 1.0)
    {
        var s = state;   // the hot loop works on a local copy of the state
        for (int i = 0; i < dst.Length; i++) dst[i] = sigma * Ziggurat.Sample(ref s);
        state = s;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>xoshiro256** state and step.</summary>
    internal struct State
    {
        public ulong S0;
        public ulong S1;
        public ulong S2;
        public ulong S3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Next()
        {
            ulong result = Rotl(S1 * 5, 7) * 9;
            ulong t = S1 << 17;
            S2 ^= S0; S3 ^= S1; S1 ^= S2; S0 ^= S3; S2 ^= t; S3 = Rotl(S3, 45);
            return result;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));
    }

    /// <summary>
    /// Ziggurat tables for the standard normal with 256 layers of equal area V = 0.00492867323399 and base
    /// x₁ = R = 3.6541528853610088: x₀ = V/f(R), x_{i} = f⁻¹(V/x_{i−1} + f(x_{i−1})), x₂₅₆ = 0, f(x) = e^{−x²/2}.
    /// A draw takes the layer from 8 bits and a symmetric uniform from 52 other bits of one 64-bit word; it is
    /// accepted at once inside the layer's rectangle (~99 % of draws), else by the wedge test or from the tail.
    /// </summary>
    private static class Ziggurat
    {
        private const double R = 3.6541528853610088;
        private const double V = 0.00492867323399;
        private static readonly double[] X = new double[257];
        private static readonly double[] F = new double[257];

        static Ziggurat()
        {
            X[0] = V / Math.Exp(-R * R / 2);
            X[1] = R;
            for (int i = 2; i < 256; i++) X[i] = Math.Sqrt(-2 * Math.Log(V / X[i - 1] + Math.Exp(-X[i - 1] * X[i - 1] / 2)));
            X[256] = 0;
            for (int i = 0; i < 257; i++) F[i] = Math.Exp(-X[i] * X[i] / 2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Sample(ref State s)
        {
            while (true)
            {
                ulong bits = s.Next();
                int i = (int)(bits & 0xff);
                double u = 2.0 * ((bits >> 12) * (1.0 / (1UL << 52))) - 1.0;   // (−1, 1) up to one ulp
                double x = u * X[i];
                if (Math.Abs(x) < X[i + 1]) return x;
                double? slow = Slow(ref s, i, u, x);
                if (slow is { } v) return v;
            }
        }

        private static double? Slow(ref State s, int i, double u, double x)
        {
            if (i == 0)
            {
                // Tail beyond R (Marsaglia 1964): x = −ln(U₁)/R, y = −ln(U₂), accept when 2y > x².
                double tx;
                double ty;
                do
                {
                    tx = -Math.Log(1.0 - (s.Next() >> 11) * (1.0 / (1UL << 53))) / R;
                    ty = -Math.Log(1.0 - (s.Next() >> 11) * (1.0 / (1UL << 53)));
                } while (2 * ty < tx * tx);
                return u < 0 ? -(R + tx) : R + tx;
            }
            double uf = (s.Next() >> 11) * (1.0 / (1UL << 53));
            return F[i + 1] + (F[i] - F[i + 1]) * uf < Math.Exp(-x * x / 2) ? x : null;
        }
    }
}
