using System.Text;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Fuzz;

/// <summary>
/// Mutations of a seed input, in the manner of byte-level fuzzers (AFL's havoc stage): bit flips, interesting bytes,
/// truncation, deletion, duplication of a chunk, splicing with another seed, and hostile numeric tokens (huge,
/// negative, non-finite, overflowing) written over the input. One to four of them are stacked per input.
/// </summary>
internal sealed class Mutator(IReadOnlyList<byte[]> seeds, ulong seed)
{
    private readonly Rng rng = new(seed);

    private static readonly byte[] InterestingBytes =
        [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'0', (byte)'9', (byte)'-', (byte)',', (byte)'(', (byte)')', (byte)'[', (byte)']',
         (byte)'{', (byte)'}', (byte)'"', (byte)'\'', (byte)':', (byte)'\n', (byte)'e', (byte)'.', (byte)' ', (byte)'='];

    private static readonly string[] HostileTokens =
        ["0", "-1", "99999999999", "2147483647", "2147483648", "-2147483649", "18446744073709551615", "1e308", "1e309", "-1e308",
         "NaN", "Infinity", "-inf", "1e-320", "4294967296", "1e154", "0x7fffffff", "((((((((", "]]]]", "[[[[[[[[", "{{{{", ""];

    public byte[] Next()
    {
        var b = seeds[rng.NextInt(seeds.Count)];
        int ops = 1 + rng.NextInt(4);
        for (int k = 0; k < ops; k++) b = Mutate(b);
        return b;
    }

    private byte[] Mutate(byte[] b)
    {
        var x = (byte[])b.Clone();
        switch (rng.NextInt(8))
        {
            case 0:
                if (x.Length == 0) return x;
                for (int f = 1 + rng.NextInt(8); f > 0; f--) x[rng.NextInt(x.Length)] ^= (byte)(1 << rng.NextInt(8));
                return x;
            case 1:
                if (x.Length == 0) return x;
                x[rng.NextInt(x.Length)] = InterestingBytes[rng.NextInt(InterestingBytes.Length)];
                return x;
            case 2:
                return x[..rng.NextInt(x.Length + 1)];
            case 3:
            {
                if (x.Length == 0) return x;
                int at = rng.NextInt(x.Length), len = 1 + rng.NextInt(Math.Min(16, x.Length - at));
                return [.. x[..at], .. x[(at + len)..]];
            }
            case 4:
            {
                if (x.Length == 0) return x;
                int at = rng.NextInt(x.Length), len = 1 + rng.NextInt(x.Length - at);
                int times = 1 + rng.NextInt(rng.NextInt(2) == 0 ? 4 : 2000);
                var chunk = x.AsSpan(at, len).ToArray();
                var grown = new List<byte>(x.Length + times * len);
                grown.AddRange(x[..at]);
                for (int t = 0; t < times && grown.Count < 1 << 20; t++) grown.AddRange(chunk);
                grown.AddRange(x[at..]);
                return [.. grown];
            }
            case 5:
            {
                var other = seeds[rng.NextInt(seeds.Count)];
                return [.. x[..rng.NextInt(x.Length + 1)], .. other[rng.NextInt(other.Length + 1)..]];
            }
            default:
            {
                // A hostile number over a run of digits (or at a random place): what a header's shape or offsets meet.
                var token = Encoding.ASCII.GetBytes(HostileTokens[rng.NextInt(HostileTokens.Length)]);
                int at = rng.NextInt(x.Length + 1);
                int end = at;
                while (end < x.Length && (char.IsAsciiDigit((char)x[end]) || x[end] is (byte)'.' or (byte)'-')) end++;
                return [.. x[..at], .. token, .. x[end..]];
            }
        }
    }
}
