using System.Text;
using VideoGen.Coordinator.Planning;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Services;

/// <summary>
/// Input hygiene for ids and quoted input: an id is checked for length and characters before any
/// lookup, and any input quoted in a status message or log line is cut to <see cref="MaxQuoted"/>
/// characters with control characters escaped (a long id once made NOT_FOUND overflow the trailers).
/// </summary>
public static class InputText
{
    /// <summary>The most characters of any input quoted in a message or log line.</summary>
    public const int MaxQuoted = 200;

    /// <summary>The longest id (job, worker) the API accepts.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Input fit to quote: at most <see cref="MaxQuoted"/> characters, control characters as \n, \0, \uXXXX.</summary>
    public static string Quote(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var sb = new StringBuilder(Math.Min(value.Length, MaxQuoted) + 16);
        var i = 0;
        for (; i < value.Length && i < MaxQuoted; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        if (i < value.Length)
        {
            sb.Append("…(").Append(value.Length).Append(" chars)");
        }

        return sb.ToString();
    }

    /// <summary>Throws INVALID_ARGUMENT (naming <paramref name="field"/>) unless the id is 1–128 of [A-Za-z0-9._:-].</summary>
    public static void RequireId(string field, string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new RequestValidationException([new(field, "must not be empty")]);
        }

        if (id.Length > MaxIdLength)
        {
            throw new RequestValidationException([new(field, $"must be at most {MaxIdLength} characters; got {id.Length}")]);
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                throw new RequestValidationException([new(field, $"may hold only letters, digits and . _ : - ; got '{Quote(id)}'")]);
            }
        }

        if (id is "." or "..")
        {
            throw new RequestValidationException([new(field, $"must not be '{id}'")]);
        }
    }
}

/// <summary>Message size limits of the gRPC servers (coordinator and worker), explicit rather than library defaults.</summary>
public static class GrpcLimits
{
    /// <summary>Largest request a server reads: 1 MiB (a job request is a few KiB; a worker's events smaller still).</summary>
    public const int MaxReceiveMessageBytes = 1 << 20;

    /// <summary>Largest response a server writes: 16 MiB (a Job with a long plan, or a page of jobs).</summary>
    public const int MaxSendMessageBytes = 16 << 20;
}
