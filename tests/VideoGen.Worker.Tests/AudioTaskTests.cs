using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using VideoGen.Catalog;
using VideoGen.Contracts;
using VideoGen.Contracts.V1;
using VideoGen.TestDoubles;
using VideoGen.Worker.Media;

namespace VideoGen.Worker.Tests;

/// <summary>
/// The voiceover and music tasks over their models: the embedded espeak-ng and FFmpeg bed, OpenAI speech through the real
/// SDK against a stand-in of <c>POST /v1/audio/speech</c>, MusicGen through the Replicate provider against the
/// predictions stand-in; and the audio FFmpeg argument lists, pinned.
/// </summary>
public sealed partial class AudioTaskTests
{
    private const string Key = "sk-test-speech";

    private static readonly Beat[] Beats =
    [
        new() { Index = 0, StartSeconds = 0, LengthSeconds = 3, VoiceoverLine = "Meet the titanium watch." },
        // 12 words at the stand-in's 0.35 s a word: 4.2 s, far over its 2 s beat even at 1.1×. Cut at a word and spoken again.
        new() { Index = 1, StartSeconds = 3, LengthSeconds = 2, VoiceoverLine = "Built from aerospace titanium with sapphire glass and a week of battery." },
        new() { Index = 2, StartSeconds = 5, LengthSeconds = 5, VoiceoverLine = "Order yours today." },
    ];

    [Fact(Timeout = 90_000)]
    public async Task Voiceover_WithOpenAiTts1_SpeaksEachLineInTheMappedVoice_FitsIt_AndPricesEveryCharacterSent()
    {
        var token = Timeouts.After(80);
        await using var speech = await OpenAiStandIn.StartAsync((context, _, ct) =>
        {
            var words = OpenAiStandIn.RequestOf(context).Body["input"]!.GetValue<string>().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            return OpenAiStandIn.WriteSpeechAsync(context, 0.35 * words, ct);
        });
        await using var worker = await WorkerTestHost.StartAsync(OpenAiSettings(speech), token);

        var events = await RunAsync(worker, VoiceoverRequest("tts-1", "bright", 0.000015), token);

        var completed = events[^1].Completed;
        Assert.True(completed is not null, $"voiceover did not complete: {events[^1]}");
        // One call per line, and one more for the line that did not fit: cut to the words that fit at 1.1×.
        var requests = speech.Requests.ToArray();
        Assert.Equal(4, requests.Length);
        Assert.All(requests, r =>
        {
            Assert.Equal("/v1/audio/speech", r.Path);
            Assert.Equal($"Bearer {Key}", r.Authorization);
            Assert.Equal(("tts-1", "nova", "wav"), (r.Body["model"]!.GetValue<string>(), r.Body["voice"]!.GetValue<string>(), r.Body["response_format"]!.GetValue<string>()));
        });
        var inputs = requests.Select(r => r.Body["input"]!.GetValue<string>()).ToArray();
        Assert.Contains("Meet the titanium watch.", inputs);
        Assert.Contains("Order yours today.", inputs);
        Assert.Contains(Beats[1].VoiceoverLine, inputs);
        Assert.Contains("Built from aerospace titanium with", inputs);
        Assert.Equal(inputs.Sum(i => i.Length) * 0.000015, completed.CostUsd, 9);

        // The stored track: one mono 48 kHz WAV of exactly 10 s, each line at its beat's start, silence before the next.
        Assert.EndsWith(ArtifactKeys.Voiceover("job-audio"), completed.OutputUri);
        var stored = new Uri(completed.OutputUri).LocalPath;
        Assert.Equal("pcm_s16le,48000,1", (await StreamAsync(stored, token)).Trim());
        Assert.InRange(completed.MediaSeconds, 9.99, 10.01);
        foreach (var beat in Beats)
        {
            Assert.True(await RmsDbAsync(stored, beat.StartSeconds + 0.05, 0.3, token) > -20, $"no speech at {beat.StartSeconds}s");
            var gap = beat.StartSeconds + beat.LengthSeconds - SoundtrackArguments.LineGapSeconds + 0.01;
            Assert.True(await RmsDbAsync(stored, gap, SoundtrackArguments.LineGapSeconds - 0.02, token) < -60, $"speech runs into the beat after {beat.StartSeconds}s");
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData(429, true, "rate_limit_exceeded")]
    [InlineData(500, true, "server_error")]
    [InlineData(400, false, "invalid_request_error")]
    public async Task Voiceover_ProviderError_FailsRetryableOrPermanent_WithTheReason(int status, bool retryable, string type)
    {
        var token = Timeouts.After(50);
        await using var speech = await OpenAiStandIn.StartAsync((context, _, ct) => OpenAiStandIn.WriteJsonAsync(context, status, OpenAiStandIn.Error("no speech today", type, type), ct));
        await using var worker = await WorkerTestHost.StartAsync(OpenAiSettings(speech, new() { ["OpenAI:MaxRetries"] = "1" }), token);

        var request = VoiceoverRequest("tts-1", "narrator", 0.000015);
        request.Voiceover.Beats.RemoveAt(2);
        request.Voiceover.Beats.RemoveAt(1);
        var events = await RunAsync(worker, request, token);

        var failed = events[^1].Failed;
        Assert.True(failed is not null, $"voiceover did not fail: {events[^1]}");
        Assert.Equal(retryable, failed.Retryable);
        Assert.Contains($"OpenAI speech (tts-1)", failed.Reason);
        Assert.Contains($"HTTP {status}", failed.Reason);
        Assert.Contains("no speech today", failed.Reason);
        Assert.Equal(retryable ? 2 : 1, speech.Requests.Count(r => r.Body["voice"]!.GetValue<string>() == "alloy"));
        Assert.False(File.Exists(Path.Combine(worker.StorageRoot, ArtifactKeys.Voiceover("job-audio"))));
    }

    [Fact(Timeout = 90_000)]
    public async Task Music_WithMusicgenOnReplicate_CreatesThePrediction_LoopsItsWavToTheDuration_AndPricesTheSeconds()
    {
        var token = Timeouts.After(80);
        await using var replicate = await ReplicateStandIn.StartAsync(new ReplicateStandInOptions { ProcessingFor = TimeSpan.FromMilliseconds(200) }, token);
        var generated = replicate.WriteAudio(8);
        replicate.Script = (_, _) => new PredictionScript(OutputFile: generated);
        await using var worker = await WorkerTestHost.StartAsync(ReplicateSettings(replicate), token);

        var events = await RunAsync(worker, MusicRequest("musicgen", 0.002), token);

        var completed = events[^1].Completed;
        Assert.True(completed is not null, $"music did not complete: {events[^1]}");
        var create = Assert.Single(replicate.Creates);
        Assert.Equal("/v1/models/meta/musicgen/predictions", create.Path);
        var input = create.Json!["input"]!;
        Assert.Equal(12, input["duration"]!.GetValue<int>());
        Assert.Equal("wav", input["output_format"]!.GetValue<string>());
        // Bars of 2 s on the 0, 4, 8, 12 s boundaries: 120 bpm.
        Assert.Equal("upbeat, bright pop instrumental with punchy drums, 120 bpm, 4/4, no vocals, background music for an ad about a titanium watch", input["prompt"]!.GetValue<string>());
        Assert.Equal(12 * 0.002, completed.CostUsd, 9);

        var stored = new Uri(completed.OutputUri).LocalPath;
        Assert.EndsWith(ArtifactKeys.Music("job-audio"), completed.OutputUri);
        Assert.Equal("pcm_s16le,48000,2", (await StreamAsync(stored, token)).Trim());
        Assert.InRange(completed.MediaSeconds, 11.99, 12.01);
        // The 8 s answer is looped (sound at 9–10 s), faded in and out.
        Assert.True(await RmsDbAsync(stored, 9, 1, token) > -20, "the model's music was not looped to the duration");
        Assert.True(await RmsDbAsync(stored, 0, 0.05, token) < await RmsDbAsync(stored, 5, 0.05, token) - 20, "no fade in");
        Assert.True(await RmsDbAsync(stored, 11.95, 0.05, token) < await RmsDbAsync(stored, 5, 0.05, token) - 20, "no fade out");

        // A later attempt (the coordinator restarted) re-attaches to the kept result: no second prediction, no second bill.
        var again = MusicRequest("musicgen", 0.002);
        again.Attempt = 2;
        var resumed = await RunAsync(worker, again, token);
        Assert.True(resumed[0].Accepted.Resumed);
        Assert.Equal((completed.OutputUri, completed.CostUsd), (resumed[^1].Completed.OutputUri, resumed[^1].Completed.CostUsd));
        Assert.Single(replicate.Creates);
    }

    [Fact(Timeout = 60_000)]
    public async Task Voiceover_CancelTask_CutsTheHostedCallShort_AndEndsTheStreamCancelled()
    {
        var token = Timeouts.After(50);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var speech = await OpenAiStandIn.StartAsync(async (_, _, ct) =>
        {
            asked.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(60), ct);
        });
        await using var worker = await WorkerTestHost.StartAsync(OpenAiSettings(speech, new() { ["OpenAI:TimeoutSeconds"] = "120" }), token);

        using var call = worker.Client.RunTask(VoiceoverRequest("tts-1", "calm", 0.000015), cancellationToken: token);
        var reading = Task.Run(async () =>
        {
            var events = new List<TaskEvent>();
            await foreach (var e in call.ResponseStream.ReadAllAsync(token))
            {
                events.Add(e);
            }

            return events;
        }, token);
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(20), token);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var cancelled = await worker.Client.CancelTaskAsync(new CancelTaskRequest { JobId = "job-audio", TaskId = "voiceover", Reason = "job cancelled" }, cancellationToken: token);
        var events = await reading.WaitAsync(TimeSpan.FromSeconds(20), token);

        Assert.True(cancelled.Found);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"the voiceover ended {stopwatch.Elapsed} after its cancel");
        Assert.Equal("cancelled: job cancelled", events[^1].Failed?.Reason);
        Assert.False(File.Exists(Path.Combine(worker.StorageRoot, ArtifactKeys.Voiceover("job-audio"))));
    }

    [Fact(Timeout = 60_000)]
    public async Task Music_ReplicateThrottlesTheCreate_FailsAtOnceAsThrottled_WithRetryAfter_NothingCreatedOrBilled()
    {
        var token = Timeouts.After(50);
        await using var replicate = await ReplicateStandIn.StartAsync(cancellationToken: token);
        replicate.ThrottleNextCreates(100, retryAfterSeconds: 7);
        await using var worker = await WorkerTestHost.StartAsync(ReplicateSettings(replicate), token);

        var events = await RunAsync(worker, MusicRequest("musicgen", 0.002), token);

        // Not waited out on the worker (its slot would idle): the coordinator pauses the model farm-wide instead.
        var failed = events[^1].Failed;
        Assert.True(failed is not null, $"music did not fail: {events[^1]}");
        Assert.True(failed.Retryable);
        Assert.Contains("429", failed.Reason);
        Assert.Equal((ProviderFault.Throttled, 7.0), (failed.Fault, failed.RetryAfterSeconds));
        Assert.Single(replicate.Creates);
        Assert.Equal(0, replicate.Creations);
        Assert.Equal(0, failed.CostUsd);
    }

    [Fact(Timeout = 60_000)]
    public async Task EmbeddedModels_OnAWorkerListingNeither_MakeAFreeVoiceoverAndBed()
    {
        var token = Timeouts.After(50);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["Worker:Models"] = "procedural-i2v" }, token);

        var voice = (await RunAsync(worker, VoiceoverRequest("espeak-ng", "warm", 0), token))[^1].Completed;
        var music = (await RunAsync(worker, MusicRequest("ffmpeg-bed", 0), token))[^1].Completed;

        Assert.True(voice is not null && music is not null, "an embedded audio model failed");
        Assert.Equal((0.0, 0.0), (voice.CostUsd, music.CostUsd));
        Assert.InRange(voice.MediaSeconds, 9.99, 10.01);
        Assert.InRange(music.MediaSeconds, 11.99, 12.01);
        Assert.True(await RmsDbAsync(new Uri(voice.OutputUri).LocalPath, 5.05, 0.5, token) > -40, "no speech at the third beat");
    }

    [Fact(Timeout = 30_000)]
    public async Task StartUp_ServingTts1WithoutAKey_FailsNamingTheKeyAndTheModel()
    {
        var token = Timeouts.After(25);
        var settings = new Dictionary<string, string?> { ["Worker:Models"] = "procedural-i2v,tts-1", ["OpenAI:ApiKey"] = "", ["OPENAI_API_KEY"] = "" };

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => WorkerTestHost.StartAsync(settings, token));

        Assert.Contains("OpenAI:ApiKey", error.Message);
        Assert.Contains("tts-1", error.Message);
    }

    public static TheoryData<string, RunTaskRequest> MalformedAudioTasks()
    {
        RunTaskRequest Voice(Action<VoiceoverTask> change)
        {
            var request = VoiceoverRequest("tts-1", "narrator", 0);
            change(request.Voiceover);
            return request;
        }

        RunTaskRequest Music(Action<MusicTask> change)
        {
            var request = MusicRequest("ffmpeg-bed", 0);
            change(request.Music);
            return request;
        }

        return new TheoryData<string, RunTaskRequest>
        {
            { "voiceover.voice", Voice(v => v.Voice = "robot") },
            { "voiceover.model", Voice(v => v.Model = "tts-1") }, // in the catalog, not served by this worker
            { "voiceover.model", Voice(v => v.Model = "ffmpeg-bed") }, // not a speech model
            { "voiceover.price_per_character_usd", Voice(v => { v.Model = "espeak-ng"; v.PricePerCharacterUsd = -1; }) },
            { "music.style", Music(m => m.Style = "polka") },
            { "music.model", Music(m => m.Model = "musicgen") },
            { "music.beat_starts_seconds[1]", Music(m => m.BeatStartsSeconds[1] = 0) },
            { "music.duration_seconds", Music(m => m.DurationSeconds = double.NaN) },
        };
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(MalformedAudioTasks))]
    public async Task RunTask_MalformedAudioTask_InvalidArgumentNamingTheField(string field, RunTaskRequest request)
    {
        var token = Timeouts.After(20);
        await using var worker = await WorkerTestHost.StartAsync(new Dictionary<string, string?> { ["Worker:Models"] = "procedural-i2v" }, token);

        using var call = worker.Client.RunTask(request, cancellationToken: token);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync(token))
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field + ": ", error.Status.Detail);
    }

    [Fact]
    public void MusicBed_Arguments_ArePinned_OneMonoPhraseAt24kHz_LoopedShapedAndResampled()
    {
        Assert.Equal(
            ["-y", "-f", "lavfi", "-i", "aevalsrc='0.12*(0.35+0.65*exp(-6*mod(t\\,0.625)))*(sin(2*PI*220*pow(2\\,if(eq(mod(floor(t/2.5)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/2.5)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/2.5)\\,4)\\,2)\\,5\\,7)))/12)*t)+0.6*sin(2*PI*220*pow(2\\,if(eq(mod(floor(t/2.5)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/2.5)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/2.5)\\,4)\\,2)\\,5\\,7)))/12)*1.259921*t)+0.5*sin(2*PI*220*pow(2\\,if(eq(mod(floor(t/2.5)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/2.5)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/2.5)\\,4)\\,2)\\,5\\,7)))/12)*1.498307*t)+0.3*sin(PI*220*pow(2\\,if(eq(mod(floor(t/2.5)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/2.5)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/2.5)\\,4)\\,2)\\,5\\,7)))/12)*t))+0.35*sin(2*PI*55*mod(t\\,0.625))*exp(-18*mod(t\\,0.625))':s=24000:c=mono:d=10", "-af", "aloop=loop=-1:size=240000,atrim=end=30,lowpass=f=5000,afade=t=in:st=0:d=1,afade=t=out:st=28:d=2,aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo", "-c:a", "pcm_s16le", "/w/music.wav"],
            SoundtrackArguments.MusicBedArguments("upbeat", 2.5, 30, "/w/music.wav"));
        // Shorter than one phrase (4 bars of 3 s): the expression runs for the duration only.
        Assert.Equal(
            ["-y", "-f", "lavfi", "-i", "aevalsrc='0.12*(0.35+0.65*exp(-1.5*mod(t\\,0.75)))*(sin(2*PI*174.61*pow(2\\,if(eq(mod(floor(t/3)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/3)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/3)\\,4)\\,2)\\,5\\,7)))/12)*t)+0.6*sin(2*PI*174.61*pow(2\\,if(eq(mod(floor(t/3)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/3)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/3)\\,4)\\,2)\\,5\\,7)))/12)*1.259921*t)+0.5*sin(2*PI*174.61*pow(2\\,if(eq(mod(floor(t/3)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/3)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/3)\\,4)\\,2)\\,5\\,7)))/12)*1.498307*t)+0.3*sin(PI*174.61*pow(2\\,if(eq(mod(floor(t/3)\\,4)\\,0)\\,0\\,if(eq(mod(floor(t/3)\\,4)\\,1)\\,-3\\,if(eq(mod(floor(t/3)\\,4)\\,2)\\,5\\,7)))/12)*t))':s=24000:c=mono:d=4.5", "-af", "aloop=loop=-1:size=108000,atrim=end=4.5,lowpass=f=5000,afade=t=in:st=0:d=1,afade=t=out:st=2.5:d=2,aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo", "-c:a", "pcm_s16le", "/w/music.wav"],
            SoundtrackArguments.MusicBedArguments("calm", 3, 4.5, "/w/music.wav"));
    }

    [Fact]
    public void Mix_Arguments_ArePinned_PremixAndFirstPassInOneRun_ThenTheLinearSecondPass()
    {
        Assert.Equal(
            ["-y", "-i", "/w/voice.wav", "-i", "/w/music.wav", "-filter_complex", "[0:a]aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[voice][side];[1:a]aformat=sample_fmts=fltp:channel_layouts=stereo[music];[music][side]sidechaincompress=threshold=0.015:ratio=12:attack=15:release=350:makeup=1[ducked];[voice][ducked]amix=inputs=2:normalize=0:duration=longest,apad=whole_dur=30,atrim=end=30,asplit=2[mix][premix];[premix]loudnorm=I=-14:TP=-2:LRA=20:print_format=json[measure]", "-map", "[mix]", "-c:a", "pcm_f32le", "/w/premix.wav", "-map", "[measure]", "-f", "null", "-"],
            SoundtrackArguments.PremixArguments("/w/voice.wav", "/w/music.wav", 30, LoudnessTarget.Web, "/w/premix.wav"));
        Assert.Equal(
            ["-y", "-i", "/w/premix.wav", "-af", "loudnorm=I=-23:TP=-2:LRA=20:measured_I=-20.5:measured_TP=-3.2:measured_LRA=6.1:measured_thresh=-31:offset=0.4:linear=true,aresample=48000,apad=whole_dur=30,atrim=end=30", "-c:a", "aac", "-profile:a", "aac_low", "-b:a", "192k", "-ar", "48000", "-ac", "2", "-t", "30", "-movflags", "+faststart", "/w/out.m4a"],
            SoundtrackArguments.EncodeArguments("/w/premix.wav", LoudnessTarget.Broadcast, new LoudnormMeasurement(-20.5, -3.2, 6.1, -31, 0.4), 30, "/w/out.m4a"));
    }

    [Fact]
    public void HostedMusic_And_Espeak_Arguments_ArePinned()
    {
        Assert.Equal(
            ["-y", "-stream_loop", "-1", "-i", "/w/raw", "-af", "aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo,atrim=end=12,afade=t=in:st=0:d=1,afade=t=out:st=10:d=2", "-t", "12", "-c:a", "pcm_s16le", "/w/music.wav"],
            SoundtrackArguments.NormaliseMusicArguments("/w/raw", 12, "/w/music.wav"));
        Assert.Equal(
            ["-v", "en-us+f3", "-s", "165", "-w", "/w/line-0.wav", "Order yours today."],
            SoundtrackMaker.EspeakArguments("bright", "Order yours today.", "/w/line-0.wav"));
    }

    [Fact(Timeout = 60_000)]
    public async Task MusicBed_LoopedPhrase_KeepsEveryBarLineOnItsBeatBoundary()
    {
        using var folder = new TempFolder();
        var token = Timeouts.After(50);
        // Beats at 0, 5, 15, 25, 30 s: 2.5 s bars, a 10 s phrase looped three times.
        var bed = await new SoundtrackMaker(folder.File("work")).MusicBedAsync("upbeat", [0, 5, 15, 25, 30], 30, folder.File("bed.wav"), token);

        Assert.Equal("pcm_s16le,48000,2", (await StreamAsync(bed, token)).Trim());
        Assert.InRange(await SoundtrackMaker.DurationAsync(bed, token), 29.99, 30.01);
        // Every beat of a bar starts with a pulse (and the kick): louder just after a bar line than just before it,
        // in the looped phrases as in the first one.
        foreach (var bar in new[] { 5.0, 12.5, 15.0, 22.5, 25.0 })
        {
            var before = await RmsDbAsync(bed, bar - 0.06, 0.05, token);
            var after = await RmsDbAsync(bed, bar + 0.005, 0.05, token);
            Assert.True(after - before > 3, $"no pulse on the bar line at {bar}s: {before:0.0} dB before, {after:0.0} dB after");
        }
    }

    [Fact]
    public void WavHeader_ReadsPcmLength_AlsoWhenTheSizesArePlaceholders()
    {
        using var folder = new TempFolder();
        var plain = folder.File("plain.wav");
        var streamed = folder.File("streamed.wav");
        File.WriteAllBytes(plain, Wav.Tone(1.5, 22_050, 1, 440));
        File.WriteAllBytes(streamed, Wav.Tone(2.25, 24_000, 1, 440, streamed: true));
        File.WriteAllText(folder.File("not.wav"), "not a wav");

        Assert.Equal(1.5, WavHeader.TryReadSeconds(plain)!.Value, 6);
        Assert.Equal(2.25, WavHeader.TryReadSeconds(streamed)!.Value, 6);
        Assert.Null(WavHeader.TryReadSeconds(folder.File("not.wav")));
    }

    private static RunTaskRequest VoiceoverRequest(string model, string voice, double pricePerCharacter)
    {
        var task = new VoiceoverTask { DurationSeconds = 10, Voice = voice, Model = model, OutputKey = ArtifactKeys.Voiceover("job-audio"), PricePerCharacterUsd = pricePerCharacter };
        task.Beats.AddRange(Beats.Select(b => b.Clone()));
        return new RunTaskRequest { JobId = "job-audio", TaskId = "voiceover", Attempt = 1, Voiceover = task };
    }

    private static RunTaskRequest MusicRequest(string model, double pricePerSecond) => new()
    {
        JobId = "job-audio",
        TaskId = "music",
        Attempt = 1,
        Music = new MusicTask
        {
            DurationSeconds = 12,
            BeatStartsSeconds = { 0, 4, 8 },
            Style = "upbeat",
            Subject = "a titanium watch",
            Model = model,
            OutputKey = ArtifactKeys.Music("job-audio"),
            PricePerSecondUsd = pricePerSecond,
        },
    };

    private static Dictionary<string, string?> OpenAiSettings(OpenAiStandIn speech, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Models"] = "procedural-i2v,tts-1",
            ["OpenAI:BaseUrl"] = speech.BaseUrl,
            ["OpenAI:ApiKey"] = Key,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Dictionary<string, string?> ReplicateSettings(ReplicateStandIn replicate, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Models"] = "procedural-i2v,musicgen",
            ["Replicate:BaseUrl"] = replicate.BaseUrl,
            ["Replicate:ApiToken"] = replicate.Options.ApiToken,
            ["Replicate:WaitSeconds"] = "1",
            ["Replicate:PollSeconds"] = "0.05",
            ["Replicate:PollMaxSeconds"] = "0.2",
            ["Replicate:RetryBaseSeconds"] = "0.05",
            ["Replicate:RetryMaxSeconds"] = "1",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<List<TaskEvent>> RunAsync(WorkerTestHost worker, RunTaskRequest request, CancellationToken cancellationToken)
    {
        var events = new List<TaskEvent>();
        using var call = worker.Client.RunTask(request, cancellationToken: cancellationToken);
        await foreach (var taskEvent in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            events.Add(taskEvent);
        }

        Assert.NotEmpty(events);
        return events;
    }

    private static async Task<string> StreamAsync(string file, CancellationToken token)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "csv=p=0", file })
        {
            start.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync(token);
        await p.WaitForExitAsync(token);
        return await output;
    }

    private static async Task<double> RmsDbAsync(string file, double start, double length, CancellationToken token)
    {
        var (_, stderr) = await FfmpegProbe.RunAsync(token,
            "-ss", start.ToString("0.###", CultureInfo.InvariantCulture), "-t", length.ToString("0.###", CultureInfo.InvariantCulture),
            "-i", file, "-af", "astats=metadata=0:measure_perchannel=none", "-f", "null", "-");
        var match = RmsLevel().Match(stderr);
        Assert.True(match.Success, stderr);
        var text = match.Groups[1].Value;
        return text.Contains("inf", StringComparison.Ordinal) ? -200 : double.Parse(text, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"RMS level dB:\s+(-?[0-9.inf]+)")]
    private static partial Regex RmsLevel();
}
