from assistantd.scripted_model.command import main

main()
