using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoGen.Worker.Models.Replicate;

/// <summary>A prediction as the Replicate API returns it (the fields the worker uses).</summary>
public sealed record ReplicatePrediction
{
    [JsonPropertyName("id")]
    public string Id { get; init; } = "";

    /// <summary><c>starting</c>, <c>processing</c>, <c>succeeded</c>, <c>failed</c>, <c>canceled</c> or <c>aborted</c>.</summary>
    [JsonPropertyName("status")]
    public string Status { get; init; } = "";

    /// <summary>A URL, a list of URLs or an object of them, depending on the model; null until it succeeded.</summary>
    [JsonPropertyName("output")]
    public JsonElement Output { get; init; }

    /// <summary>Why it failed: usually a string, sometimes an object.</summary>
    [JsonPropertyName("error")]
    public JsonElement Error { get; init; }

    /// <summary>Replicate's metrics; <c>predict_time</c> is the seconds the model ran, what time-billed models are charged for.</summary>
    [JsonPropertyName("metrics")]
    public JsonElement Metrics { get; init; }

    /// <summary><c>metrics.predict_time</c>, 0 when absent (not started, or not reported yet).</summary>
    [JsonIgnore]
    public double PredictSeconds =>
        Metrics.ValueKind == JsonValueKind.Object && Metrics.TryGetProperty("predict_time", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : 0;

    /// <summary>True once the prediction will not change any more.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status is "succeeded" or "failed" or "canceled" or "aborted";

    /// <summary>The error as text ("" when none).</summary>
    [JsonIgnore]
    public string ErrorText => Error.ValueKind switch
    {
        JsonValueKind.String => Error.GetString() ?? "",
        JsonValueKind.Undefined or JsonValueKind.Null => "",
        _ => Error.GetRawText(),
    };

    /// <summary>The first http(s) URL in the output, or null.</summary>
    public string? FirstOutputUrl() => FirstUrl(Output);

    private static string? FirstUrl(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String when element.GetString() is { } s && Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" => s,
        JsonValueKind.Array => element.EnumerateArray().Select(FirstUrl).FirstOrDefault(u => u is not null),
        JsonValueKind.Object => element.EnumerateObject().Select(p => FirstUrl(p.Value)).FirstOrDefault(u => u is not null),
        _ => null,
    };
}
