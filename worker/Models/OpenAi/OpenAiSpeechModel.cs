using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Audio;
using VideoGen.Catalog;
using VideoGen.Worker.Tasks;

namespace VideoGen.Worker.Models.OpenAi;

/// <summary>
/// Voiceover lines from OpenAI speech (<c>tts-1</c>) through the official SDK's <see cref="AudioClient"/>, against
/// OpenAI or any server that speaks <c>POST {BaseUrl}/audio/speech</c>: one call per line, the catalog voice mapped
/// to an OpenAI voice (<see cref="Voices"/>), answered as WAV so the fit reads its length from the header.
/// Failures map like the image model's: 400, 404, 413 and 422 are permanent; 429, 5xx, network errors and timeouts,
/// after the SDK's own retries, are retryable (the coordinator retries the task like a chunk).
/// </summary>
public sealed class OpenAiSpeechModel : ISpeechModel
{
    /// <summary>The catalog's voice names → OpenAI's built-in voices.</summary>
    public static IReadOnlyDictionary<string, string> Voices { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["narrator"] = "alloy",
        ["bright"] = "nova",
        ["warm"] = "onyx",
        ["calm"] = "shimmer",
    };

    private readonly AudioClient _client;
    private readonly OpenAiOptions _options;
    private readonly ILogger _logger;

    public OpenAiSpeechModel(ModelSpec spec, OpenAiOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        ApiModel = string.IsNullOrWhiteSpace(spec.ProviderModel) ? options.SpeechModel : spec.ProviderModel;
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(options.BaseUrl),
            NetworkTimeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
        };
        _client = new AudioClient(ApiModel, new ApiKeyCredential(options.ApiKey), clientOptions);
    }

    /// <summary>The model id sent to the API.</summary>
    public string ApiModel { get; }

    /// <inheritdoc />
    public async Task<int> SpeakAsync(SpeechRequest request, CancellationToken cancellationToken)
    {
        var voice = Voices.TryGetValue(request.Voice, out var v) ? v : throw new PermanentTaskException($"OpenAI speech has no voice for '{request.Voice}'.");
        var started = Stopwatch.GetTimestamp();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        BinaryData audio;
        try
        {
            audio = (await _client.GenerateSpeechAsync(
                request.Text,
                new GeneratedSpeechVoice(voice),
                new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav },
                linked.Token).ConfigureAwait(false)).Value;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception ex) when (deadline.IsCancellationRequested || OpenAiImageModel.IsTimeout(ex))
        {
            throw new TransientTaskException($"OpenAI speech ({ApiModel}): no audio within {_options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s", ex);
        }
        catch (ClientResultException ex) when (OpenAiImageModel.IsPermanent(ex.Status))
        {
            var (code, message) = OpenAiImageModel.ErrorOf(ex);
            var reason = $"OpenAI speech ({ApiModel}) rejected the request: HTTP {ex.Status}{(code is null ? "" : $" {code}")}: {message}";
            OpenAiLog.SpeechRejected(_logger, ApiModel, ex.Status, reason);
            throw new PermanentTaskException(reason, ex);
        }
        catch (ClientResultException ex)
        {
            var (code, message) = OpenAiImageModel.ErrorOf(ex);
            var what = ex.Status == 0 ? "network error" : $"HTTP {ex.Status}{(code is null ? "" : $" {code}")}";
            throw new TransientTaskException($"OpenAI speech ({ApiModel}): {what} after {_options.MaxRetries + 1} attempts: {message}", ex);
        }
        catch (Exception ex) when (ex is AggregateException or HttpRequestException or IOException)
        {
            throw new TransientTaskException($"OpenAI speech ({ApiModel}): network error after {_options.MaxRetries + 1} attempts: {OpenAiImageModel.Clip(OpenAiImageModel.Innermost(ex).Message)}", ex);
        }

        if (audio.ToMemory().Length == 0)
        {
            throw new TransientTaskException($"OpenAI speech ({ApiModel}): the answer has no audio.");
        }

        await File.WriteAllBytesAsync(request.OutputPath, audio.ToArray(), cancellationToken).ConfigureAwait(false);
        OpenAiLog.Spoke(_logger, ApiModel, voice, request.Text.Length, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return request.Text.Length;
    }
}
