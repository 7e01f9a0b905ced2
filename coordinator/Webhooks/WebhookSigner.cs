using System.Security.Cryptography;
using System.Text;

namespace VideoGen.Coordinator.Webhooks;

/// <summary>
/// Standard Webhooks signatures: <c>webhook-signature: v1,&lt;base64 HMAC-SHA256 of "id.timestamp.body"&gt;</c>, keyed with the
/// bytes of the secret's base64 part (the secret is "whsec_" + base64).
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>The key bytes of a "whsec_…" secret; null when it is not one (too short, not base64).</summary>
    public static byte[]? Key(string? secret)
    {
        if (string.IsNullOrWhiteSpace(secret))
        {
            return null;
        }

        var text = secret.Trim();
        if (text.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            text = text[SecretPrefix.Length..];
        }

        try
        {
            var key = Convert.FromBase64String(text);
            return key.Length is >= 24 and <= 64 ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The value of the webhook-signature header.</summary>
    public static string Sign(byte[] key, string id, long timestampSeconds, string body)
    {
        var content = Encoding.UTF8.GetBytes($"{id}.{timestampSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    /// <summary>Whether <paramref name="signatureHeader"/> (space-separated "v1,…" entries) holds a valid signature; for receivers and tests.</summary>
    public static bool Verify(byte[] key, string id, long timestampSeconds, string body, string signatureHeader)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(key, id, timestampSeconds, body));
        return signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }
}
