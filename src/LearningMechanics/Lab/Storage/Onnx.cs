using Google.Protobuf;
using LearningMechanics.Lab.Storage.OnnxSchema;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Storage;

/// <summary>A weight matrix of an ONNX model, as (outputs × inputs), with the node that uses it.</summary>
/// <param name="Name">the initialiser's name</param>
/// <param name="Op">the operator that consumes it (Gemm, MatMul, Conv), or "" for a 2-D initialiser no such node uses</param>
/// <param name="Node">that node's name</param>
/// <param name="Shape">the initialiser's stored shape</param>
public sealed record OnnxWeight(string Name, string Op, string Node, long[] Shape, Matrix Matrix);

/// <summary>
/// Weights of an ONNX model (the exchange format most frameworks export; onnx.ai, IR version ≥ 3), parsed with
/// Google.Protobuf from ONNX's schema (<c>OnnxWeights.proto</c>, the fields read). Float initialisers (FLOAT, DOUBLE,
/// FLOAT16, BFLOAT16, in <c>raw_data</c> or the typed fields) are read; other types are skipped. Limits before
/// allocation: a file ≤ 2 GiB (protobuf's own limit), every tensor's element count equal to the data it carries;
/// external data (a separate weights file) is refused with the reason.
/// </summary>
public static class Onnx
{
    private const long MaxBytes = int.MaxValue;

    private static readonly MessageParser<ModelProto> Parser = ModelProto.Parser.WithDiscardUnknownFields(true);

    /// <summary>The model's float initialisers, by name, in file order.</summary>
    public static List<NamedTensor> ReadInitializers(string path) => [.. Initializers(Parse(path), path).Select(t => t.Tensor)];

    /// <summary>
    /// The weight matrices as (outputs × inputs): a Gemm's B (transposed unless transB = 1), a MatMul's constant second
    /// input (transposed: ONNX computes X·W), a Conv's kernel (out, in/groups, k…) reshaped to (out, in/groups·∏k), and every
    /// other 2-D initialiser as stored.
    /// </summary>
    public static List<OnnxWeight> ReadWeights(string path)
    {
        var model = Parse(path);
        // Empty initialisers are no weights (and their other dimensions are unbounded).
        var tensors = Initializers(model, path).Where(t => t.Tensor.Data.Length > 0).ToDictionary(t => t.Tensor.Name, t => t.Tensor);
        var weights = new List<OnnxWeight>();
        var used = new HashSet<string>();
        foreach (var node in model.Graph?.Node ?? [])
        {
            int input = node.OpType switch { "Gemm" or "MatMul" or "Conv" => 1, _ => -1 };
            if (input < 0 || node.Input.Count <= input || !tensors.TryGetValue(node.Input[input], out var t) || !used.Add(t.Name))
                continue;
            var m = node.OpType switch
            {
                "Gemm" when t.Shape.Length == 2 =>
                    node.Attribute.Any(a => a.Name == "transB" && a.I != 0) ? AsMatrix(t) : AsMatrix(t).Transposed(),
                "MatMul" when t.Shape.Length == 2 => AsMatrix(t).Transposed(),
                "Conv" when t.Shape.Length >= 3 => new Matrix(checked((int)t.Shape[0]), t.Data.Length / (int)Math.Max(1, t.Shape[0]),
                    t.Data),
                _ => null,
            };
            if (m is not null) weights.Add(new OnnxWeight(t.Name, node.OpType, node.Name, t.Shape, m));
        }
        foreach (var t in tensors.Values.Where(t => t.Shape.Length == 2 && !used.Contains(t.Name)))
            weights.Add(new OnnxWeight(t.Name, "", "", t.Shape, AsMatrix(t)));
        return weights;
    }

    private static Matrix AsMatrix(NamedTensor t) => new(checked((int)t.Shape[0]), checked((int)t.Shape[1]), t.Data);

    private static ModelProto Parse(string path)
    {
        using var fs = Npy.OpenForRead(path);
        if (fs.Length > MaxBytes)
            throw new BadInputException($"{path}: {fs.Length} bytes; an ONNX file holds at most 2 GiB (larger models keep their " +
                "weights in external data, which lmech does not read).");
        var bytes = new byte[fs.Length];
        fs.ReadExactly(bytes);
        try
        {
            var model = Parser.ParseFrom(bytes);
            if (model.Graph is null) throw new BadInputException($"{path}: not an ONNX model (no graph).");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new BadInputException($"{path}: not a valid ONNX file ({e.Message})");
        }
    }

    /// <summary>The float initialisers with their data checked against their shapes.</summary>
    private static IEnumerable<(TensorProto Proto, NamedTensor Tensor)> Initializers(ModelProto model, string path)
    {
        var seen = new HashSet<string>();
        foreach (var t in model.Graph.Initializer)
        {
            string? dtype = t.DataType switch { 1 => "F32", 11 => "F64", 10 => "F16", 16 => "BF16", _ => null };
            if (dtype is null) continue;
            string where = $"{path}: initialiser '{t.Name}'";
            if (!seen.Add(t.Name)) throw new BadInputException($"{where} appears twice.");
            if (t.DataLocation == 1 || t.ExternalData.Count > 0)
                throw new BadInputException($"{where} keeps its data in an external file, which lmech does not read; save the " +
                    "model with its weights inside (onnx.save_model(..., save_as_external_data=False)) or as safetensors.");
            long count = 1;
            foreach (long d in t.Dims)
            {
                if (d < 0) throw new BadInputException($"{where}: negative dimension {d}.");
                count = d == 0 || count <= MaxBytes / d ? count * d : throw new BadInputException($"{where}: shape too large.");
            }
            var data = Values(t, dtype, count, where);
            yield return (t, new NamedTensor(t.Name, dtype, [.. t.Dims], data));
        }
    }

    /// <summary>The elements from raw_data, or from the typed field ONNX assigns to the type; their number must be the
    /// shape's.</summary>
    private static double[] Values(TensorProto t, string dtype, long count, string where)
    {
        long found;
        double[] data;
        if (!t.RawData.IsEmpty)
        {
            int size = SafeTensors.ElementSize(dtype)!.Value;
            found = t.RawData.Length / size;
            if (t.RawData.Length % size != 0 || found != count)
                throw new BadInputException($"{where}: {t.RawData.Length} bytes of raw data for {count} elements of {size} bytes.");
            data = SafeTensors.Decode(dtype, t.RawData.Span);
        }
        else
        {
            (found, data) = dtype switch
            {
                "F32" => (t.FloatData.Count, count == t.FloatData.Count ? [.. t.FloatData.Select(v => (double)v)] : []),
                "F64" => (t.DoubleData.Count, count == t.DoubleData.Count ? [.. t.DoubleData] : []),
                // FLOAT16 and BFLOAT16 travel as their 16 bits in int32_data.
                _ => (t.Int32Data.Count, count == t.Int32Data.Count
                    ? SafeTensors.Decode(dtype, [.. t.Int32Data.SelectMany(v => new[] { (byte)v, (byte)(v >> 8) })])
                    : []),
            };
            if (found != count) throw new BadInputException($"{where}: {found} values for shape [{string.Join(",", t.Dims)}].");
        }
        return data;
    }
}
