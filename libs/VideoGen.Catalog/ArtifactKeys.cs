namespace VideoGen.Catalog;

/// <summary>
/// The one key scheme for every artifact of a job, used by the coordinator when it names
/// a task's outputs and by every storage backend (local folder, S3). Keeping it in one
/// place is what keeps "the final video is a 404" from happening again.
/// </summary>
public static class ArtifactKeys
{
    public static string Storyboard(string jobId, int beatIndex) => $"jobs/{jobId}/storyboard/{beatIndex}.png";

    /// <summary>The keyframe at the end of chunk <paramref name="chunkIndex"/> (first-and-last-frame jobs).</summary>
    public static string Keyframe(string jobId, int chunkIndex) => $"jobs/{jobId}/keyframes/{chunkIndex}.png";

    public static string Chunk(string jobId, int chunkIndex) => $"jobs/{jobId}/chunks/{chunkIndex}.mp4";

    public static string LastFrame(string jobId, int chunkIndex) => $"jobs/{jobId}/chunks/{chunkIndex}.last.png";

    /// <summary>A chunk after the upscaler model, at the master's size.</summary>
    public static string Upscaled(string jobId, int chunkIndex) => $"jobs/{jobId}/upscaled/{chunkIndex}.mp4";

    public static string Final(string jobId) => $"jobs/{jobId}/final.mp4";

    /// <summary>The raw cut: every chunk joined by stream copy, before the finish step.</summary>
    public static string Stitched(string jobId) => $"jobs/{jobId}/stitched.mp4";

    /// <summary>The mixed soundtrack (AAC .m4a).</summary>
    public static string Soundtrack(string jobId) => $"jobs/{jobId}/soundtrack.m4a";

    /// <summary>The voiceover: every beat's line placed at its beat (mono WAV).</summary>
    public static string Voiceover(string jobId) => $"jobs/{jobId}/voiceover.wav";

    /// <summary>The music bed (stereo WAV).</summary>
    public static string Music(string jobId) => $"jobs/{jobId}/music.wav";

    /// <summary>A deliverable in another aspect ratio, e.g. "9:16" → <c>jobs/{job}/final-9x16.mp4</c>.</summary>
    public static string Deliverable(string jobId, string aspectRatio) => $"jobs/{jobId}/final-{aspectRatio.Replace(':', 'x')}.mp4";
}
