using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Lab.Sweeps;

namespace LearningMechanics.Tests.Fuzz;

/// <summary>
/// Every reader of user input fed mutated inputs (<see cref="Mutator"/>) from valid and hostile seeds: NPY, CSV matrices
/// and tables, safetensors, ONNX, IDX (plain and gzip), sweep files, architecture strings and <c>--set</c> values. Each input
/// must be read or refused with a <see cref="BadInputException"/> that says something; any other exception is a defect.
/// Bounds per input, checked: at most <see cref="MaxSeconds"/> s, and at most 64 MiB + 64 bytes per input byte allocated
/// (the managed allocations of the reading thread, an upper bound on what it holds). Inputs per reader:
/// <c>LMECH_FUZZ_COUNT</c> (default 1500 in the suite; <c>scripts/fuzz.sh --long</c> runs 10⁵).
/// </summary>
public class ParserFuzzTests : IDisposable
{
    private const double MaxSeconds = 1.0;

    private readonly string dir = Directory.CreateTempSubdirectory("lmech-fuzz-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private static int Count => int.TryParse(Environment.GetEnvironmentVariable("LMECH_FUZZ_COUNT"), NumberStyles.None,
        CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1500;

    private static long AllocationBound(int inputBytes) => (64L << 20) + 64L * inputBytes;

    /// <summary>Feeds the seeds, then mutations of them, to <paramref name="read"/>; fails listing the first defects with
    /// the input (base64) to reproduce them.</summary>
    private static void Fuzz(IReadOnlyList<byte[]> seeds, ulong seed, Action<byte[]> read)
    {
        var mutator = new Mutator(seeds, seed);
        var defects = new List<string>();
        int refused = 0;
        for (int i = 0; i < Count && defects.Count < 5; i++)
        {
            var input = i < seeds.Count ? seeds[i] : mutator.Next();
            string? defect = null;
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try { read(input); }
            catch (BadInputException e)
            {
                refused++;
                if (string.IsNullOrWhiteSpace(e.Message)) defect = "a refusal without a message";
            }
            catch (Exception e) { defect = $"{e.GetType().Name}: {e.Message}"; }
            double seconds = clock.Elapsed.TotalSeconds;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (seconds > MaxSeconds) defect ??= $"took {seconds:F2} s";
            if (allocated > AllocationBound(input.Length)) defect ??= $"allocated {allocated >> 20} MiB";
            if (defect is not null)
                defects.Add($"input {i} ({input.Length} bytes): {defect}; base64 " +
                    Convert.ToBase64String(input[..Math.Min(input.Length, 300)]));
        }
        Assert.True(defects.Count == 0, string.Join("\n", defects));
        Assert.True(refused > 0 && refused < Count,
            $"{refused} of {Count} inputs refused: the mutations never (or always) broke the format.");
    }

    private string Write(byte[] bytes, string name)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Ascii(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Doubles(params double[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    [Fact]
    public void Npy()
    {
        byte[][] seeds =
        [
            FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", Doubles(1, 2, 3, 4, 5, 6)),
            FileBytes.Npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }\n", new byte[32], 2),
            FileBytes.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", new byte[12]),
            FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }\n", new byte[8]),
            FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }\n", []),
        ];
        Fuzz(seeds, 1, b => global::LearningMechanics.Lab.Storage.Npy.Read(Write(b, "m.npy")));
    }

    [Fact]
    public void CsvMatrix()
    {
        byte[][] seeds = [Ascii("a b c\n# note\n1, 2, 3\n4\t5\t6\n\n7;8;9e-1\n"), Ascii("1,2\n3,4\n-5e300,6\n"), Ascii("x\n1\n2\n3\n")];
        Fuzz(seeds, 2, b => global::LearningMechanics.Lab.Storage.CsvMatrix.Read(Write(b, "m.csv")));
    }

    [Fact]
    public void CsvTable()
    {
        byte[][] seeds = [Ascii("n,d,loss\n1e6,1e9,3.2\n2e6,2e9,3.0\n4e6,4e9,2.9\n"), Ascii("loss;n;d\n# c\n3;10;20\n")];
        Fuzz(seeds, 3, b => global::LearningMechanics.Lab.Storage.CsvTable.ReadColumns(Write(b, "t.csv"), "n", "d", "loss"));
    }

    [Fact]
    public void Safetensors()
    {
        byte[][] seeds =
        [
            FileBytes.Safetensors("{\"w\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,32]},\"__metadata__\":{\"a\":\"b\"}}", 32),
            FileBytes.Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," +
                "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}," +
                "\"c\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[16,18]}}", 18),
            FileBytes.Safetensors("{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
            FileBytes.Safetensors(new string('[', 5000) + new string(']', 5000), 0),
        ];
        Fuzz(seeds, 4, b => SafeTensors.Read(Write(b, "w.safetensors")));
    }

    [Fact]
    public void Idx()
    {
        var images = FileBytes.Idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
        byte[][] seeds =
        [
            images, FileBytes.Gzip(images), FileBytes.Idx(0x0E, [2], Doubles(-1.25, 3).Reverse().ToArray()),
            FileBytes.Idx(0x08, [int.MaxValue, int.MaxValue], []), FileBytes.Gzip(FileBytes.Idx(0x0C, [3], new byte[12])),
        ];
        Fuzz(seeds, 5, b => global::LearningMechanics.Data.Idx.Read(Write(b, "x.idx")));
    }

    [Fact]
    public void Onnx()
    {
        var model = LearningMechanics.Tests.Lab.Storage.OnnxTests.Model();
        var bytes = model.ToByteArray();
        model.Graph.Initializer[0].Dims.Add(1L << 40);
        byte[][] seeds = [bytes, model.ToByteArray(), [.. Enumerable.Repeat((byte)0x3A, 4000)]];
        Fuzz(seeds, 9, b => global::LearningMechanics.Lab.Storage.Onnx.ReadWeights(Write(b, "m.onnx")));
    }

    [Fact]
    public void SweepFiles()
    {
        byte[][] seeds =
        [
            Ascii("""{ "name": "g", "command": "train", "base": { "arch": "dense({width})-relu-dense(1)", "steps": 5 }, """ +
                """ "axes": { "width": [8, 16], "lr": { "log": [0.01, 1, 3] } }, "seeds": [1, 2] }"""),
            Ascii("""{ "command": "run", "base": { "experiment": "gp-limit", "mode": "quick" }, "axes": { "nets": [10, 20] } }"""),
            Ascii(new string('[', 3000) + new string(']', 3000)),
        ];
        Fuzz(seeds, 6, b => SweepPlan.From(SweepSpec.Parse(Encoding.UTF8.GetString(b))));
    }

    [Fact]
    public void Architectures()
    {
        byte[][] seeds =
        [
            Ascii("dense(512)-res(relu-dense(512),0.5)-layernorm-dense(1)"), Ascii("dense(8,sw2=2,sb2=0.1)-tanh-dense(4)-gelu-dense(1)"),
            Ascii("dense(64)-leaky_relu(0.1)-dense(64)-erf-dense(10)"), Ascii(string.Concat(Enumerable.Repeat("res(", 20000)) + "relu"),
        ];
        Fuzz(seeds, 7, b => NetworkSpec.Parse(Encoding.UTF8.GetString(b)));
    }

    /// <summary><c>--set</c> values through the typed readers experiments use, and the key=value pairs themselves.</summary>
    [Fact]
    public void SetValues()
    {
        SettingInfo[] known =
        [
            new("i", "", "3", "3"), new("x", "", "0.5", "0.5"), new("is", "", "8,16,32", "8,16,32"), new("xs", "", "0.1,0.2", "0.1,0.2"),
            new("grid", "", "-12:-3", "-12:-3"), new("acts", "", "relu,tanh", "relu,tanh"),
        ];
        byte[][] seeds = [.. new[] { "i=3", "x=0.5", "is=8,16,32", "xs=0.1,0.2", "grid=-12:-3", "acts=relu,erf,leaky_relu(0.2)" }
            .Select(Ascii)];
        Fuzz(seeds, 8, b =>
        {
            var s = new Settings(known, RunMode.Quick, Settings.ParsePairs([Encoding.UTF8.GetString(b)]));
            s.GetInt("i", 1);
            s.GetDouble("x", 0);
            s.GetIntList("is");
            s.GetDoubleList("xs", 0);
            s.GetLog2Grid("grid", 2);
            foreach (var a in s.GetList("acts")) Activation.Parse(a);
        });
    }
}
