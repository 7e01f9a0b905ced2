using VideoGen.Cli.Commands;

return await CliApp.MainAsync(args);
