using VideoGen.Worker.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddVideoGenWorker();

var app = builder.Build();
app.MapVideoGenWorker();
await app.RunAsync();
