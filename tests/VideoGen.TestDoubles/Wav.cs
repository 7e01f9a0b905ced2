using System.Buffers.Binary;

namespace VideoGen.TestDoubles;

/// <summary>PCM WAV files for stand-ins that answer audio: a sine tone, 16-bit.</summary>
public static class Wav
{
    /// <summary>
    /// A 16-bit PCM WAV of a sine at <paramref name="frequencyHz"/> (half scale). <paramref name="streamed"/> writes the RIFF
    /// and data sizes as 0xFFFFFFFF, as a server that streams the file before it knows its length does.
    /// </summary>
    public static byte[] Tone(double seconds, int sampleRate, int channels, double frequencyHz, bool streamed = false)
    {
        var frames = (int)Math.Round(seconds * sampleRate);
        var dataBytes = frames * channels * 2;
        var bytes = new byte[44 + dataBytes];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], streamed ? uint.MaxValue : (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], (short)channels);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], (short)(channels * 2));
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], streamed ? uint.MaxValue : (uint)dataBytes);
        for (var i = 0; i < frames; i++)
        {
            var sample = (short)(16_000 * Math.Sin(2 * Math.PI * frequencyHz * i / sampleRate));
            for (var c = 0; c < channels; c++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(span[(44 + (((i * channels) + c) * 2))..], sample);
            }
        }

        return bytes;
    }
}
