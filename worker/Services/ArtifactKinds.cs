using VideoGen.Contracts.V1;

namespace VideoGen.Worker.Services;

/// <summary>The one place an <see cref="ArtifactKind"/> gets the string of the deprecated <c>TaskArtifact.name</c>.</summary>
public static class ArtifactKinds
{
    public static string Name(ArtifactKind kind) => kind switch
    {
        ArtifactKind.Clip => "clip",
        ArtifactKind.LastFrame => "last_frame",
        ArtifactKind.Image => "image",
        ArtifactKind.Video => "video",
        ArtifactKind.Deliverable => "deliverable",
        ArtifactKind.Audio => "audio",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an artifact kind"),
    };
}
