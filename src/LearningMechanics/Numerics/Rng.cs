using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace LearningMechanics.Numerics;

/// <summary>
/// Deterministic, splittable random generator: xoshiro256** (Blackman &amp; Vigna 2018) seeded through SplitMix64.
/// <see cref="Split(ulong)"/> derives an independent child stream from the generator's <em>key</em> and a stream index
/// without consuming any draws, so work split over threads by index draws the same numbers whatever the
/// scheduling: <c>new Rng(seed).Split(i)</c> is a pure function of (seed, i).
/// </summary>
public sealed class Rng
{
    private ulong s0, s1, s2, s3;
    private readonly ulong key;

    public Rng(ulong seed)
    {
        key = seed;
        ulong x = seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
        if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
    }

    /// <summary>An independent generator for stream <paramref name="stream"/>; same (key, stream) → same draws.</summary>
    public Rng Split(ulong stream)
    {
        ulong x = key ^ 0x9E3779B97F4A7C15UL * (stream + 1);
        ulong mixed = SplitMix(ref x) ^ Rotl(key, 17);
        return new Rng(SplitMix(ref mixed));
    }

    /// <summary>Child stream for a multi-index such as (network, width).</summary>
    public Rng Split(ulong stream, ulong substream) => Split(stream).Split(substream);

    public ulong NextUInt64()
    {
        ulong result = Rotl(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = Rotl(s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Upper bound {n} must be positive.");
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>One standard normal draw (Box–Muller, one of the pair discarded; use <see cref="FillGaussian"/> in bulk).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fills <paramref name="dst"/> with iid N(0, σ²) draws: vectorised Box–Muller over blocks of 256 pairs.</summary>
    public void FillGaussian(Span<double> dst, double sigma = 1.0)
    {
        const int Block = 256;
        Span<double> u = stackalloc double[Block];
        Span<double> v = stackalloc double[Block];
        Span<double> sin = stackalloc double[Block];
        Span<double> cos = stackalloc double[Block];
        int i = 0;
        while (i < dst.Length)
        {
            int pairs = Math.Min(Block, (dst.Length - i + 1) / 2);
            for (int j = 0; j < pairs; j++)
            {
                u[j] = 1.0 - NextDouble();                // (0, 1]: log finite
                v[j] = 2.0 * NextDouble();                // angle / π in [0, 2)
            }
            var uu = u[..pairs]; var vv = v[..pairs];
            TensorPrimitives.Log(uu, uu);
            TensorPrimitives.Multiply(uu, -2.0 * sigma * sigma, uu);
            TensorPrimitives.Sqrt(uu, uu);
            TensorPrimitives.SinCosPi(vv, sin[..pairs], cos[..pairs]);
            int first = Math.Min(pairs, dst.Length - i);
            TensorPrimitives.Multiply(uu[..first], cos[..first], dst.Slice(i, first));
            i += first;
            int second = Math.Min(pairs, dst.Length - i);
            TensorPrimitives.Multiply(uu[..second], sin[..second], dst.Slice(i, second));
            i += second;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
