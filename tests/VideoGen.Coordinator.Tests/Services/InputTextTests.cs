using VideoGen.Coordinator.Planning;
using VideoGen.Coordinator.Services;
using Xunit;
using VideoGen.Errors;

namespace VideoGen.Coordinator.Tests.Services;

public sealed class InputTextTests
{
    [Fact]
    public void Quote_cuts_long_input_and_names_its_length()
    {
        var quoted = InputText.Quote(new string('a', 100_000));
        Assert.True(quoted.Length < InputText.MaxQuoted + 32, $"quoted {quoted.Length} chars");
        Assert.StartsWith(new string('a', InputText.MaxQuoted), quoted);
        Assert.EndsWith("(100000 chars)", quoted);
    }

    [Fact]
    public void Quote_escapes_control_characters()
    {
        var quoted = InputText.Quote("a\nb\0c\u001bd\re\\");
        Assert.Equal("a\\nb\\0c\\u001bd\\re\\\\", quoted);
        Assert.DoesNotContain(quoted, char.IsControl);
    }

    [Theory]
    [InlineData("job-20261128215500-ab12cd34")]
    [InlineData("worker-host-1f2e")]
    [InlineData("a.b_c:d")]
    public void RequireId_accepts_ids(string id) => InputText.RequireId("job_id", id);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("../etc/passwd")]
    [InlineData("job'; DROP TABLE jobs;--")]
    [InlineData("job\n1")]
    [InlineData("job\u00001")]
    [InlineData("..")]
    public void RequireId_refuses_bad_ids_naming_the_field(string id)
    {
        var e = Assert.Throws<RequestValidationException>(() => InputText.RequireId("job_id", id));
        Assert.Equal("job_id", Assert.Single(e.Violations).Field);
        Assert.True(e.Message.Length <= 300, e.Message);
        Assert.DoesNotContain(e.Message, char.IsControl);
    }

    [Fact]
    public void RequireId_refuses_an_oversized_id_with_a_short_message()
    {
        var e = Assert.Throws<RequestValidationException>(() => InputText.RequireId("worker_id", new string('x', 100_000)));
        Assert.Contains("at most 128", e.Message);
        Assert.True(e.Message.Length < 100, e.Message);
    }

    [Fact]
    public void Not_found_message_quotes_at_most_200_characters_of_the_id() =>
        Assert.True(new JobNotFoundException(new string('j', 100_000)).Message.Length < 260);
}
