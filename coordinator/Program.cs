using VideoGen.Coordinator.Hosting;

// appsettings.json ships next to the binary; relative data paths stay relative to the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddCoordinator();

var app = builder.Build();
app.MapCoordinator();
// Resolved before Run: Run disposes the host, and its services with it.
var leadership = app.Services.GetRequiredService<VideoGen.Coordinator.Leadership.Leadership>();
app.Run();
// A leader that lost its lease stops the host; it exits non-zero so that its supervisor restarts it (as a standby).
return leadership.Deposed ? 3 : 0;

/// <summary>The coordinator process (marker for tests and tools).</summary>
public partial class Program;
